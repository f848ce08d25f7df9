import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
} from 'node:crypto'
import { inTransaction } from '@authlab/clients'
import { ACCESS_TOKEN_TYPE, type AccessClaims, REQUIRED_CLAIMS } from '@authlab/contract'
import { createDecoder, createSigner, createVerifier } from 'fast-jwt'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type pg from 'pg'
import { type AuthConfig, phantomTokenTtlS } from '../../config.ts'
import { NoSigningKeyError } from '../../errors.ts'
import { type Kek, type Keks, loadKeks, sealPrivateKey, unsealWithAny } from './key-seal.ts'

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
  private_sealed: string
  activates_at: Date
}

export interface KeyOptions {
  issuer: string
  audience: string
  /** The phantom exchange's tokens: their own audience and a lifetime of a few seconds. */
  internalAudience: string
  internalTtlS: number
  accessTtlS: number
  clockToleranceMs: number
  maxAgeMs: number
}

type Verifier = (token: string) => AccessClaims

interface LoadedKey {
  row: KeyRow
  sign: (payload: Record<string, unknown>) => string
  signInternal: (payload: Record<string, unknown>) => string
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

/** Inserts a key, sealed, that signs from `activatesAt` on; it is in the JWKS from now. */
export async function insertKey(
  db: pg.Pool | pg.PoolClient,
  kek: Kek,
  privatePem: string,
  alg: Algorithm,
  activatesAt: Date,
): Promise<string> {
  const jwk = publicJwkOf(privatePem, alg)
  await db.query(
    `INSERT INTO signing_keys (kid, alg, public_jwk, private_sealed, activates_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (kid) DO NOTHING`,
    [jwk.kid, alg, jwk, sealPrivateKey(kek, jwk.kid, privatePem), activatesAt],
  )
  return jwk.kid
}

/** Seals any plaintext private key left from before migration 003, and clears its plaintext. */
export async function sealPlaintextKeys(pool: pg.Pool, kek: Kek): Promise<number> {
  const { rows } = await pool.query<{ kid: string; private_pem: string }>(
    'SELECT kid, private_pem FROM signing_keys WHERE private_pem IS NOT NULL',
  )
  for (const row of rows) {
    await pool.query(
      'UPDATE signing_keys SET private_sealed = $2, private_pem = NULL WHERE kid = $1 AND private_pem IS NOT NULL',
      [row.kid, sealPrivateKey(kek, row.kid, row.private_pem)],
    )
  }
  return rows.length
}

/**
 * KEK rotation: every key still sealed under the previous KEK is opened with it and sealed again
 * under the current one, in one transaction holding the rows' locks, so replicas starting together
 * do not race: the second waits, then finds every key under the current KEK already. A key that
 * opens under neither fails the whole step (nothing is re-sealed) and auth does not start. Once
 * every replica has started with the current KEK, the previous one is no longer needed.
 */
export async function resealUnderCurrentKek(pool: pg.Pool, keks: Keks): Promise<string[]> {
  if (!keks.previous) return []
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ kid: string; private_sealed: string }>(
      `SELECT kid, private_sealed FROM signing_keys WHERE private_sealed IS NOT NULL ORDER BY kid FOR UPDATE`,
    )
    const resealed: string[] = []
    for (const row of rows) {
      const { privatePem, kek } = unsealWithAny(keks, row.kid, row.private_sealed)
      if (kek === keks.current) continue
      await client.query('UPDATE signing_keys SET private_sealed = $2 WHERE kid = $1', [
        row.kid,
        sealPrivateKey(keks.current, row.kid, privatePem),
      ])
      resealed.push(row.kid)
    }
    return resealed
  })
}

// Any constant; the same for every auth replica, so only one of them rotates at a time.
const ROTATION_LOCK = 0x6b657973

/**
 * Scheduled rotation: when the newest key has been signing (or will sign) for `intervalS`, add the
 * next one, published now and signing after `publishDelayS`. Replicas serialise on an advisory lock
 * and re-check, so one interval brings one key however many replicas run.
 */
export async function rotateIfDue(
  pool: pg.Pool,
  kek: Kek,
  alg: Algorithm,
  intervalS: number,
  publishDelayS: number,
): Promise<string | undefined> {
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [ROTATION_LOCK])
    const { rows } = await client.query<{ due: boolean }>(
      `SELECT coalesce(max(activates_at), '-infinity') + make_interval(secs => $1) <= now() + make_interval(secs => $2) AS due
         FROM signing_keys WHERE alg = $3`,
      [intervalS, publishDelayS, alg],
    )
    if (!rows[0]?.due) return undefined
    return insertKey(
      client,
      kek,
      generatePrivateKeyPem(alg),
      alg,
      new Date(Date.now() + publishDelayS * 1000),
    )
  })
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
  readonly #keks: Keks
  readonly #opts: KeyOptions
  readonly #decode = createDecoder({ complete: true })

  /**
   * Keys open with the current KEK or, during a KEK rotation, the previous one (a key another
   * replica, still on the previous KEK, added since this one re-sealed the set at start).
   */
  constructor(pool: pg.Pool, keks: Keks, opts: KeyOptions) {
    this.#pool = pool
    this.#keks = keks
    this.#opts = opts
  }

  async reload(): Promise<void> {
    const { rows } = await this.#pool.query<KeyRow>(
      `SELECT kid, alg, public_jwk, private_sealed, activates_at FROM signing_keys
        WHERE private_sealed IS NOT NULL ORDER BY activates_at DESC, created_at DESC`,
    )
    const now = Date.now()
    const keys = new Map<string, LoadedKey>()
    let current: LoadedKey | undefined
    let successorActiveSince: number | undefined
    const published: PublicJwk[] = []
    const retired: string[] = []
    // A key whose successor has been signing for longer than the access TTL (and the clock
    // tolerance) signed nothing alive: it is deleted, private key and all.
    const lifetimeMs = this.#opts.accessTtlS * 1000 + this.#opts.clockToleranceMs
    for (const row of rows) {
      const activates = row.activates_at.getTime()
      if (successorActiveSince !== undefined && now - successorActiveSince > lifetimeMs) {
        retired.push(row.kid)
        continue
      }
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
    if (retired.length > 0) {
      await this.#pool.query('DELETE FROM signing_keys WHERE kid = ANY($1)', [retired])
    }
  }

  #compile(row: KeyRow): LoadedKey {
    const { issuer, audience, accessTtlS, clockToleranceMs, maxAgeMs } = this.#opts
    const { privatePem } = unsealWithAny(this.#keks, row.kid, row.private_sealed)
    const publicPem = createPublicKey(createPrivateKey(privatePem)).export({
      type: 'spki',
      format: 'pem',
    })
    const signer = (aud: string, ttlS: number) =>
      createSigner({
        key: privatePem,
        algorithm: row.alg,
        kid: row.kid,
        iss: issuer,
        aud,
        expiresIn: ttlS * 1000,
        header: { typ: ACCESS_TOKEN_TYPE, alg: row.alg },
      }) as (payload: Record<string, unknown>) => string
    return {
      row,
      sign: signer(audience, accessTtlS),
      signInternal: signer(this.#opts.internalAudience, this.#opts.internalTtlS),
      verify: createVerifier({
        key: publicPem.toString(),
        algorithms: [row.alg],
        allowedIss: issuer,
        allowedAud: audience,
        requiredClaims: [...REQUIRED_CLAIMS],
        clockTolerance: clockToleranceMs,
        maxAge: maxAgeMs,
      }) as Verifier,
    }
  }

  /** `iat` (epoch seconds) is given, so the issuer can record the token's `exp` before signing it. */
  sign(claims: { sub: string; jti: string; sid: string; roles: string[]; iat: number }): {
    token: string
    kid: string
  } {
    if (!this.#current) throw new NoSigningKeyError()
    return { token: this.#current.sign(claims), kid: this.#current.row.kid }
  }

  /**
   * A phantom exchange's token: the same claims as an access token but the internal audience and
   * a lifetime of seconds, signed with the current key (so the same JWKS verifies it).
   */
  signInternal(claims: { sub: string; jti: string; sid: string; roles: string[]; iat: number }): string {
    if (!this.#current) throw new NoSigningKeyError()
    return this.#current.signInternal(claims)
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
    keyEncryptionKey: Kek
  }
}

async function keysPlugin(fastify: FastifyInstance, opts: { config: AuthConfig }) {
  const { config } = opts
  // NODE_ENV=production refuses a development KEK (loadKek); elsewhere it is used, and said so.
  const keks = loadKeks(config)
  const kek = keks.current
  if (kek.development) {
    fastify.log.warn(
      'signing keys are sealed with the development key-encryption key: set KEY_ENCRYPTION_KEY',
    )
  }
  const sealed = await sealPlaintextKeys(fastify.pg, kek)
  if (sealed > 0) fastify.log.info({ sealed }, 'sealed plaintext signing keys')
  const resealed = await resealUnderCurrentKek(fastify.pg, keks)
  if (resealed.length > 0) {
    fastify.log.info(
      { resealed },
      'signing keys re-sealed under the current key-encryption key: KEY_ENCRYPTION_KEY_PREVIOUS is no longer needed once every replica has started so',
    )
  }
  const ring = new KeyRing(fastify.pg, keks, {
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    internalAudience: config.JWT_INTERNAL_AUDIENCE,
    internalTtlS: phantomTokenTtlS(config),
    accessTtlS: config.ACCESS_TOKEN_TTL_S,
    clockToleranceMs: config.JWT_CLOCK_TOLERANCE_S * 1000,
    maxAgeMs: config.JWT_MAX_AGE_S * 1000,
  })
  if (config.JWT_PRIVATE_KEY) {
    await insertKey(fastify.pg, kek, config.JWT_PRIVATE_KEY, config.JWT_ALGORITHM, new Date())
  }
  await ring.reload()
  if (ring.currentAlgorithm !== config.JWT_ALGORITHM) {
    // First start (or a changed JWT_ALGORITHM): generate a key and keep it. Concurrent first starts
    // may each insert one; the newest signs and the other stays in the JWKS, so every token verifies.
    await insertKey(
      fastify.pg,
      kek,
      generatePrivateKeyPem(config.JWT_ALGORITHM),
      config.JWT_ALGORITHM,
      new Date(),
    )
    await ring.reload()
  }
  // Other replicas and the rotation command change the set in Postgres; pick it up periodically,
  // and rotate on schedule when KEY_ROTATION_INTERVAL_S is set.
  const tick = async () => {
    if (config.KEY_ROTATION_INTERVAL_S > 0) {
      const kid = await rotateIfDue(
        fastify.pg,
        kek,
        config.JWT_ALGORITHM,
        config.KEY_ROTATION_INTERVAL_S,
        config.JWT_KEY_PUBLISH_DELAY_S,
      )
      if (kid) fastify.log.info({ kid }, 'scheduled signing key rotation: next key published')
    }
    await ring.reload()
  }
  const timer = setInterval(() => {
    tick().catch((err: Error) => fastify.log.warn({ err: err.message }, 'signing key reload failed'))
  }, config.KEY_RELOAD_INTERVAL_MS)
  timer.unref()
  fastify.decorate('keys', ring)
  fastify.decorate('keyEncryptionKey', kek)
  fastify.addHook('onClose', async () => clearInterval(timer))
}

export default fp(keysPlugin, {
  name: 'authlab-keys',
  fastify: '5.x',
  dependencies: ['authlab-postgres', 'authlab-migrations'],
})
