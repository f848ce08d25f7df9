import { inTransaction } from '@authlab/clients'
import { hash, verify } from '@node-rs/argon2'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type pg from 'pg'
import type { AuthConfig } from '../../config.ts'
import {
  AccountDisabledError,
  CurrentPasswordInvalidError,
  EmailTakenError,
  InvalidCredentialsError,
  UnauthenticatedError,
} from '../../errors.ts'

// @node-rs/argon2 exports Algorithm as a const enum, which erasable TypeScript cannot import.
const ARGON2ID = 2

export interface User {
  id: string
  email: string
}

/** A user as their own account shows them (GET /auth/me), with the key their login attempts count on. */
export interface Account extends User {
  emailNormalized: string
  roles: string[]
}

/** What an access token or session issued now carries, read under the user's row lock. */
export interface Grant {
  roles: string[]
  /** users.roles_version: which role change the roles come from */
  rolesVersion: number
  /**
   * No access token may be issued before this (epoch ms): the cut-off of the last role change,
   * which covers every token of its own second (see Permissions.changeRoles).
   */
  notBeforeMs: number
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase()
}

export class Users {
  readonly #fastify: FastifyInstance
  readonly #options: { algorithm: number; memoryCost: number; timeCost: number; parallelism: number }
  #dummyHash: Promise<string>
  /** The hash each user `authenticate` returned was verified against (see `grant`). */
  readonly #verified = new WeakMap<User, string>()

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
    const { rows } = await this.#fastify.pg.query<User & { password_hash: string; disabled_at: Date | null }>(
      'SELECT id, email, password_hash, disabled_at FROM users WHERE email_normalized = $1',
      [normalizeEmail(email)],
    )
    const row = rows[0]
    const ok = await verify(row?.password_hash ?? (await this.#dummyHash), password)
    if (!row || !ok) throw new InvalidCredentialsError()
    // Only after the password: an account's state is told to its owner, not to anyone guessing.
    if (row.disabled_at) throw new AccountDisabledError()
    const user = { id: row.id, email: row.email }
    this.#verified.set(user, row.password_hash)
    return user
  }

  /**
   * Within a transaction issuing credentials (a login or a refresh): locks the user's row shared
   * (exclusive against a password change, a role change, disabling and logout-all) and answers what
   * the credentials carry. Refuses a user that no longer exists or whose password `authenticate`
   * verified is no longer theirs (a login verified against the old password while a change
   * committed must not outlive it), and a disabled user. A user that did not come from
   * `authenticate` (a refresh) is not held to a password.
   */
  async grant(db: pg.PoolClient, user: Pick<User, 'id'>): Promise<Grant> {
    const { rows } = await db.query<{
      password_hash: string
      roles: string[]
      disabled_at: Date | null
      permissions_cutoff: string | null
      roles_version: string
    }>(
      'SELECT password_hash, roles, disabled_at, permissions_cutoff, roles_version FROM users WHERE id = $1 FOR SHARE',
      [user.id],
    )
    const row = rows[0]
    const verified = this.#verified.get(user as User)
    if (!row || (verified !== undefined && row.password_hash !== verified))
      throw new InvalidCredentialsError()
    if (row.disabled_at) throw new AccountDisabledError()
    return {
      roles: row.roles,
      rolesVersion: Number(row.roles_version),
      notBeforeMs: Number(row.permissions_cutoff ?? 0),
    }
  }

  /** The id of the user with this email, for the admin CLI. */
  async idByEmail(email: string): Promise<string | undefined> {
    const { rows } = await this.#fastify.pg.query<{ id: string }>(
      'SELECT id FROM users WHERE email_normalized = $1',
      [normalizeEmail(email)],
    )
    return rows[0]?.id
  }

  async account(userId: string): Promise<Account | undefined> {
    const { rows } = await this.#fastify.pg.query<Account>(
      `SELECT id, email, email_normalized AS "emailNormalized", roles FROM users WHERE id = $1`,
      [userId],
    )
    return rows[0]
  }

  /**
   * A password change (OWASP Session Management: renew the session on a change of credentials):
   * verifies the current password, then, in one transaction holding the user's row, stores the new
   * hash, revokes every login of the user through the revocation store, the caller's `callerLoginId`
   * included (a thief holding this device's credentials is logged out too), and runs `renew` to issue
   * the caller a fresh login in the same transaction. A failure anywhere rolls all of it back. The
   * row lock orders it against logins: one that committed before is revoked here, one after finds
   * its verified hash gone (`grant`). Resolves with the number of logins revoked (the
   * caller's counted) and what `renew` issued.
   */
  async changePassword<T>(
    userId: string,
    callerLoginId: string,
    current: string,
    next: string,
    renew: (db: pg.PoolClient) => Promise<T>,
  ): Promise<{ revoked: number; renewed: T }> {
    const { rows } = await this.#fastify.pg.query<{ password_hash: string }>(
      'SELECT password_hash FROM users WHERE id = $1',
      [userId],
    )
    const verified = rows[0]?.password_hash
    if (!verified) throw new UnauthenticatedError('The user no longer exists')
    if (!(await verify(verified, current))) throw new CurrentPasswordInvalidError()
    // Hashed before the transaction: argon2's work must not hold the user's row.
    const nextHash = await hash(next, this.#options)
    return inTransaction(this.#fastify.pg, async (db) => {
      const locked = await db.query<{ password_hash: string }>(
        'SELECT password_hash FROM users WHERE id = $1 FOR UPDATE',
        [userId],
      )
      // Changed meanwhile (another of the user's logins): what was verified is no longer current.
      if (locked.rows[0]?.password_hash !== verified) throw new CurrentPasswordInvalidError()
      const own = await db.query('SELECT 1 FROM logins WHERE id = $1 AND revoked_at IS NULL', [callerLoginId])
      if (own.rowCount !== 1) throw new UnauthenticatedError('The credential has been revoked')
      await db.query('UPDATE users SET password_hash = $2 WHERE id = $1', [userId, nextHash])
      const live = await db.query<{ id: string }>(
        'SELECT id FROM logins WHERE user_id = $1 AND revoked_at IS NULL',
        [userId],
      )
      const loginIds = live.rows.map((r) => r.id)
      await this.#fastify.revocations.revoke(db, { userId, loginIds, reason: 'password-change' })
      return { revoked: loginIds.length, renewed: await renew(db) }
    })
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
