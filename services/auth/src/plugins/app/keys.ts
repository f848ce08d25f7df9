import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
} from 'node:crypto'
import { ACCESS_TOKEN_TYPE, type AccessClaims, REQUIRED_CLAIMS } from '@authlab/contract'
import { createDecoder, createSigner, createVerifier } from 'fast-jwt'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type pg from 'pg'
import type { AuthConfig } from '../../config.ts'
import { NoSigningKeyError } from '../../errors.ts'

export type Algorithm = AuthConfig['JWT_ALGORITHM']

export interface PublicJwk extends JsonWebKey {
  kid: string
  alg: Algorithm
  use: 'sig'
}

interface KeyRow {
  kid: string
  alg: Algorithm
  public_jwk: PublicJwk
  private_pem: string
  activates_at: Date
}

export interface KeyOptions {
  issuer: string
  audience: string
  accessTtlS: number
}

type Verifier = (token: string) => AccessClaims

interface LoadedKey {
  row: KeyRow
  sign: (payload: Record<string, unknown>) => string
  verify: Verifier
}

export function generatePrivateKeyPem(alg: Algorithm): string {
  const pair =
    alg === 'EdDSA'
      ? generateKeyPairSync('ed25519')
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('rsa', { modulusLength: 2048 })
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
}

/** The public JWK of a private key, with the RFC 7638 thumbprint as `kid`. */
export function publicJwkOf(privatePem: string, alg: Algorithm): PublicJwk {
  const jwk = createPublicKey(createPrivateKey(privatePem)).export({ format: 'jwk' })
  const required: Record<string, string[]> = {
    OKP: ['crv', 'kty', 'x'],
    EC: ['crv', 'kty', 'x', 'y'],
    RSA: ['e', 'kty', 'n'],
  }
  const members = required[jwk.kty ?? ''] ?? []
  const canonical = JSON.stringify(
    Object.fromEntries(members.map((m) => [m, (jwk as Record<string, unknown>)[m]])),
  )
  const kid = createHash('sha256').update(canonical).digest('base64url')
  return { ...jwk, kid, alg, use: 'sig' }
}

/** Inserts a key that signs from `activatesAt` on; it is in the JWKS from now. */
export async function insertKey(
  pool: pg.Pool,
  privatePem: string,
  alg: Algorithm,
  activatesAt: Date,
): Promise<string> {
  const jwk = publicJwkOf(privatePem, alg)
  await pool.query(
    `INSERT INTO signing_keys (kid, alg, public_jwk, private_pem, activates_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (kid) DO NOTHING`,
    [jwk.kid, alg, jwk, privatePem, activatesAt],
  )
  return jwk.kid
}

/**
 * The signing key set. Keys live in Postgres so every auth replica signs with the same key and a
 * restart keeps it. Signing uses the newest key already active; the JWKS lists every key a live
 * token may carry: pending ones (published before they sign, so verifiers have them cached) and
 * the previous ones until the tokens they signed have expired.
 */
export class KeyRing {
  #keys = new Map<string, LoadedKey>()
  #current: LoadedKey | undefined
  #jwks: PublicJwk[] = []
  readonly #pool: pg.Pool
  readonly #opts: KeyOptions
  readonly #decode = createDecoder({ complete: true })

  constructor(pool: pg.Pool, opts: KeyOptions) {
    this.#pool = pool
    this.#opts = opts
  }

  async reload(): Promise<void> {
    const { rows } = await this.#pool.query<KeyRow>(
      'SELECT kid, alg, public_jwk, private_pem, activates_at FROM signing_keys ORDER BY activates_at DESC, created_at DESC',
    )
    const now = Date.now()
    const keys = new Map<string, LoadedKey>()
    let current: LoadedKey | undefined
    let successorActiveSince: number | undefined
    const published: PublicJwk[] = []
    for (const row of rows) {
      const activates = row.activates_at.getTime()
      // A key whose successor has been signing for longer than the access TTL signed nothing alive.
      const retired =
        successorActiveSince !== undefined && now - successorActiveSince > this.#opts.accessTtlS * 1000
      if (retired) break
      const loaded = this.#keys.get(row.kid) ?? this.#compile(row)
      keys.set(row.kid, loaded)
      published.push(row.public_jwk)
      if (activates <= now) {
        current ??= loaded
        successorActiveSince = activates
      }
    }
    this.#keys = keys
    this.#current = current
    this.#jwks = published
  }

  #compile(row: KeyRow): LoadedKey {
    const { issuer, audience, accessTtlS } = this.#opts
    const publicPem = createPublicKey(createPrivateKey(row.private_pem)).export({
      type: 'spki',
      format: 'pem',
    })
    return {
      row,
      sign: createSigner({
        key: row.private_pem,
        algorithm: row.alg,
        kid: row.kid,
        iss: issuer,
        aud: audience,
        expiresIn: accessTtlS * 1000,
        header: { typ: ACCESS_TOKEN_TYPE, alg: row.alg },
      }) as (payload: Record<string, unknown>) => string,
      verify: createVerifier({
        key: publicPem.toString(),
        algorithms: [row.alg],
        allowedIss: issuer,
        allowedAud: audience,
        requiredClaims: [...REQUIRED_CLAIMS],
      }) as Verifier,
    }
  }

  sign(claims: { sub: string; jti: string; sid: string }): { token: string; kid: string } {
    if (!this.#current) throw new NoSigningKeyError()
    return { token: this.#current.sign(claims), kid: this.#current.row.kid }
  }

  /** Verifies with the key the token names; an unknown `kid` or any other header trick throws. */
  verify(token: string): AccessClaims {
    const { header } = this.#decode(token) as { header: { kid?: unknown; typ?: unknown } }
    const key = typeof header.kid === 'string' ? this.#keys.get(header.kid) : undefined
    if (!key) throw new Error('unknown kid')
    if (header.typ !== ACCESS_TOKEN_TYPE) throw new Error('not an access token')
    return key.verify(token)
  }

  get jwks(): { keys: PublicJwk[] } {
    return { keys: this.#jwks }
  }

  get currentKid(): string | undefined {
    return this.#current?.row.kid
  }

  get currentAlgorithm(): Algorithm | undefined {
    return this.#current?.row.alg
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    keys: KeyRing
  }
}

async function keysPlugin(fastify: FastifyInstance, opts: { config: AuthConfig }) {
  const { config } = opts
  const ring = new KeyRing(fastify.pg, {
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    accessTtlS: config.ACCESS_TOKEN_TTL_S,
  })
  if (config.JWT_PRIVATE_KEY) {
    await insertKey(fastify.pg, config.JWT_PRIVATE_KEY, config.JWT_ALGORITHM, new Date())
  }
  await ring.reload()
  if (ring.currentAlgorithm !== config.JWT_ALGORITHM) {
    // First start (or a changed JWT_ALGORITHM): generate a key and keep it. Concurrent first starts
    // may each insert one; the newest signs and the other stays in the JWKS, so every token verifies.
    await insertKey(fastify.pg, generatePrivateKeyPem(config.JWT_ALGORITHM), config.JWT_ALGORITHM, new Date())
    await ring.reload()
  }
  // Other replicas and the rotation command change the set in Postgres; pick it up periodically.
  const timer = setInterval(() => {
    ring.reload().catch((err: Error) => fastify.log.warn({ err: err.message }, 'signing key reload failed'))
  }, config.KEY_RELOAD_INTERVAL_MS)
  timer.unref()
  fastify.decorate('keys', ring)
  fastify.addHook('onClose', async () => clearInterval(timer))
}

export default fp(keysPlugin, {
  name: 'authlab-keys',
  fastify: '5.x',
  dependencies: ['authlab-postgres', 'authlab-migrations'],
})
