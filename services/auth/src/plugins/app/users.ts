import { hash, verify } from '@node-rs/argon2'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { AuthConfig } from '../../config.ts'
import { EmailTakenError, InvalidCredentialsError } from '../../errors.ts'

// @node-rs/argon2 exports Algorithm as a const enum, which erasable TypeScript cannot import.
const ARGON2ID = 2

export interface User {
  id: string
  email: string
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase()
}

export class Users {
  readonly #fastify: FastifyInstance
  readonly #options: { algorithm: number; memoryCost: number; timeCost: number; parallelism: number }
  #dummyHash: Promise<string>

  constructor(fastify: FastifyInstance, config: AuthConfig) {
    this.#fastify = fastify
    this.#options = {
      algorithm: ARGON2ID,
      memoryCost: config.ARGON2_MEMORY_KIB,
      timeCost: config.ARGON2_TIME_COST,
      parallelism: 1,
    }
    // Verified against when the email is unknown, so that answer costs what a wrong password costs.
    this.#dummyHash = hash('not a real password', this.#options)
  }

  async register(email: string, password: string): Promise<User> {
    const passwordHash = await hash(password, this.#options)
    const { rows } = await this.#fastify.pg.query<User>(
      `INSERT INTO users (email, email_normalized, password_hash) VALUES ($1, $2, $3)
       ON CONFLICT (email_normalized) DO NOTHING RETURNING id, email`,
      [email.trim(), normalizeEmail(email), passwordHash],
    )
    if (!rows[0]) throw new EmailTakenError()
    return rows[0]
  }

  /** Same error, and the same argon2 work, for an unknown email and a wrong password. */
  async authenticate(email: string, password: string): Promise<User> {
    const { rows } = await this.#fastify.pg.query<User & { password_hash: string }>(
      'SELECT id, email, password_hash FROM users WHERE email_normalized = $1',
      [normalizeEmail(email)],
    )
    const row = rows[0]
    const ok = await verify(row?.password_hash ?? (await this.#dummyHash), password)
    if (!row || !ok) throw new InvalidCredentialsError()
    return { id: row.id, email: row.email }
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    users: Users
  }
}

export default fp(
  async (fastify: FastifyInstance, opts: { config: AuthConfig }) => {
    fastify.decorate('users', new Users(fastify, opts.config))
  },
  { name: 'authlab-users', fastify: '5.x', dependencies: ['authlab-postgres', 'authlab-migrations'] },
)
