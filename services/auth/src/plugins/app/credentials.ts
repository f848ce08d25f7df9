import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { inTransaction } from '@authlab/clients'
import { SESSION_ID_PATTERN } from '@authlab/contract'
import { hashSessionId, type SessionRecord } from '@authlab/revocation'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type pg from 'pg'
import type { AuthConfig } from '../../config.ts'
import {
  AccountDisabledError,
  InvalidCredentialsError,
  IssueDeferredError,
  RefreshInvalidError,
  RefreshReusedError,
} from '../../errors.ts'
import type { LoginRef } from './revocations.ts'
import type { Grant, User } from './users.ts'

export interface IssuedLogin {
  accessToken: string
  expiresIn: number
  refreshToken: string
  sessionId: string
  loginId: string
}

interface AccessTimes {
  /** epoch seconds */
  iat: number
  expiresAt: Date
}

/** What one access token is issued from. */
interface AccessGrant {
  userId: string
  loginId: string
  roles: string[]
  times: AccessTimes
}

/** Where a login came from, as the sessions listing shows it (recorded at login). */
export interface Device {
  /** The User-Agent header, truncated to USER_AGENT_MAX_LENGTH characters. */
  userAgent: string | null
  /** The client's address as the per-address login limits key it (clientKey). */
  address: string
}

/** A live login as GET /auth/sessions lists it (loginId only to mark the caller's own). */
export interface LoginListing {
  loginId: string
  publicId: string
  createdAt: Date
  lastUsedAt: Date
  userAgent: string | null
  address: string | null
}

/** Enough to tell one browser from another; a megabyte of header is not stored. */
export const USER_AGENT_MAX_LENGTH = 256

/** last_used_at moves at most this often per login. */
export const LAST_USED_RESOLUTION_MS = 60_000

export interface TokenPair {
  accessToken: string
  expiresIn: number
  refreshToken: string
}

/** The longest a login or refresh waits for a role change's cut-off (see #accessTimes). */
const MAX_ISSUE_WAIT_MS = 3000

const randomToken = () => randomBytes(32).toString('base64url')
const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url')

/**
 * The successor of a refresh token, sealed (AES-256-GCM) under a key derived from the token it
 * replaces: only someone presenting that token again can read it, and the database holds no usable
 * refresh token.
 */
function sealKey(presented: string): Buffer {
  return Buffer.from(hkdfSync('sha256', presented, 'authlab', 'refresh-successor', 32))
}
function seal(successor: string, presented: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', sealKey(presented), iv)
  const body = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')
}
function unseal(sealed: string, presented: string): string {
  const raw = Buffer.from(sealed, 'base64url')
  const decipher = createDecipheriv('aes-256-gcm', sealKey(presented), raw.subarray(0, 12))
  decipher.setAuthTag(raw.subarray(12, 28))
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
}

/** Issuing: logins (session + access JWT + refresh family) and refresh-token rotation. */
export class Credentials {
  readonly #fastify: FastifyInstance
  readonly #config: AuthConfig
  /** When this process last moved each login's last_used_at: no query at all within the minute. */
  readonly #touched = new Map<string, number>()

  constructor(fastify: FastifyInstance, config: AuthConfig) {
    this.#fastify = fastify
    this.#config = config
  }

  /**
   * When the next access token is issued and when it expires. Taken inside the issuing transaction,
   * which records the expiry on the login row before the token is signed with this `iat`: a
   * revocation that locks the row afterwards sees every token the login can ever have carried.
   */
  async #accessTimes(grant: Grant): Promise<AccessTimes> {
    // Within a second of a role change, wait for its cut-off: a token issued before it, new roles
    // and all, would be refused as one carrying the old roles (about a second, and only then). A
    // cut-off much further off means clocks that disagree: refused rather than held in the
    // transaction, which holds the user's row.
    if (grant.notBeforeMs - Date.now() > MAX_ISSUE_WAIT_MS) throw new IssueDeferredError()
    // A loop: a timer may fire a millisecond early by the wall clock that `iat` is read from.
    for (let wait = grant.notBeforeMs - Date.now(); wait > 0; wait = grant.notBeforeMs - Date.now()) {
      await sleep(wait)
    }
    const iat = Math.floor(Date.now() / 1000)
    return { iat, expiresAt: new Date((iat + this.#config.ACCESS_TOKEN_TTL_S) * 1000) }
  }

  #signAccess({ userId, loginId, roles, times }: AccessGrant): string {
    return this.#fastify.keys.sign({ sub: userId, sid: loginId, roles, jti: randomUUID(), iat: times.iat })
      .token
  }

  /** Raises the login's recorded access-token expiry (kept NULL for a login that predates it) and latest iat. */
  #recordAccessExpiry(db: pg.PoolClient, loginId: string, times: AccessTimes): Promise<unknown> {
    return db.query(
      `UPDATE logins
          SET access_expires_at = CASE WHEN access_expires_at IS NULL THEN NULL
                                       ELSE GREATEST(access_expires_at, $2) END,
              access_issued_at = GREATEST(access_issued_at, $3)
        WHERE id = $1`,
      [loginId, times.expiresAt, times.iat],
    )
  }

  async login(user: User, device: Device = { userAgent: null, address: '' }): Promise<IssuedLogin> {
    return inTransaction(this.#fastify.pg, (db) => this.loginWithin(db, user, device))
  }

  /**
   * `login` within the caller's transaction (a password change renews the caller's login in the
   * transaction that revokes the old one): nothing is issued unless that transaction commits.
   */
  async loginWithin(db: pg.PoolClient, user: User, device: Device): Promise<IssuedLogin> {
    const c = this.#config
    const sessionId = randomToken()
    const loginId = randomUUID()
    const refreshToken = randomToken()
    const now = Date.now()
    const expiresAt = now + c.SESSION_ABSOLUTE_TTL_S * 1000
    // Shared with other logins, exclusive against logout-all (see Revocations.logoutAll), a role
    // change and a password change, after which a login verified against the old password is refused.
    const grant = await this.#fastify.users.grant(db, user)
    const access = await this.#accessTimes(grant)
    await db.query(
      `INSERT INTO logins (id, user_id, session_hash, created_at, last_used_at, expires_at,
                           access_expires_at, access_issued_at, user_agent, address)
       VALUES ($1, $2, $3, clock_timestamp(), clock_timestamp(), $4, $5, $8, $6, $7)`,
      [
        loginId,
        user.id,
        hashSessionId(sessionId),
        new Date(expiresAt),
        access.expiresAt,
        device.userAgent?.slice(0, USER_AGENT_MAX_LENGTH) ?? null,
        device.address || null,
        access.iat,
      ],
    )
    await db.query('INSERT INTO refresh_tokens (token_hash, login_id, expires_at) VALUES ($1, $2, $3)', [
      sha256(refreshToken),
      loginId,
      new Date(Math.min(expiresAt, now + c.REFRESH_TOKEN_TTL_S * 1000)),
    ])
    const record: SessionRecord = {
      userId: user.id,
      loginId,
      expiresAt,
      roles: grant.roles,
      rolesVersion: grant.rolesVersion,
    }
    await this.#fastify.revocationWriter.writeSession(sessionId, record, c.SESSION_IDLE_TTL_S * 1000)
    // Signed after the expiry is recorded on the row: a revocation locking it sees this token.
    return {
      accessToken: this.#signAccess({ userId: user.id, loginId, roles: grant.roles, times: access }),
      expiresIn: c.ACCESS_TOKEN_TTL_S,
      refreshToken,
      sessionId,
      loginId,
    }
  }

  /**
   * Rotation: the presented token is spent and a successor issued. Presenting a spent token again
   * within REFRESH_REUSE_GRACE_MS (two tabs refreshing at once) returns the same successor; after
   * that it is reuse, and the whole login is revoked.
   */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const grace = this.#config.REFRESH_REUSE_GRACE_MS
    const next = randomToken()
    const outcome = await inTransaction(this.#fastify.pg, async (db) => {
      // The user's row first, as every transaction that locks both takes them (a role change,
      // logout-all, a password change): the other order could deadlock against them.
      const owner = await db.query<{ user_id: string }>(
        'SELECT l.user_id FROM refresh_tokens t JOIN logins l ON l.id = t.login_id WHERE t.token_hash = $1',
        [sha256(refreshToken)],
      )
      const userId = owner.rows[0]?.user_id
      if (!userId) return { kind: 'invalid' as const }
      // A disabled user's logins were revoked with it: the token is as invalid as any revoked one.
      const grant = await this.#fastify.users.grant(db, { id: userId }).catch((err: unknown) => {
        if (err instanceof AccountDisabledError || err instanceof InvalidCredentialsError) return undefined
        throw err
      })
      if (!grant) return { kind: 'invalid' as const }
      const { rows } = await db.query<{
        login_id: string
        user_id: string
        spent_at: Date | null
        expires_at: Date
        revoked_at: Date | null
        successor_sealed: string | null
      }>(
        `SELECT t.login_id, l.user_id, t.spent_at, t.expires_at, l.revoked_at, t.successor_sealed
           FROM refresh_tokens t JOIN logins l ON l.id = t.login_id
          WHERE t.token_hash = $1 FOR UPDATE OF t, l`,
        [sha256(refreshToken)],
      )
      const row = rows[0]
      if (!row || row.revoked_at || row.expires_at.getTime() <= Date.now())
        return { kind: 'invalid' as const }
      const access = await this.#accessTimes(grant)
      const issue = { userId: row.user_id, loginId: row.login_id, roles: grant.roles, times: access }
      if (row.spent_at) {
        if (row.successor_sealed && Date.now() - row.spent_at.getTime() <= grace) {
          const successor = unseal(row.successor_sealed, refreshToken)
          await this.#recordAccessExpiry(db, row.login_id, access)
          return { kind: 'ok' as const, next: successor, issue }
        }
        await this.#fastify.revocations.revoke(db, {
          userId: row.user_id,
          loginIds: [row.login_id],
          reason: 'refresh-token-reuse',
        })
        return { kind: 'reused' as const }
      }
      await db.query(
        'UPDATE refresh_tokens SET spent_at = now(), successor_sealed = $2 WHERE token_hash = $1',
        [sha256(refreshToken), grace > 0 ? seal(next, refreshToken) : null],
      )
      await db.query('INSERT INTO refresh_tokens (token_hash, login_id, expires_at) VALUES ($1, $2, $3)', [
        sha256(next),
        row.login_id,
        row.expires_at,
      ])
      await this.#recordAccessExpiry(db, row.login_id, access)
      await this.#touch(db, row.login_id)
      return { kind: 'ok' as const, next, issue }
    })
    // Thrown after the transaction so the reuse revocation commits.
    if (outcome.kind === 'invalid') throw new RefreshInvalidError()
    if (outcome.kind === 'reused') {
      this.#fastify.authMetrics.revocations.inc({ reason: 'refresh-token-reuse' })
      throw new RefreshReusedError()
    }
    return {
      accessToken: this.#signAccess(outcome.issue),
      expiresIn: this.#config.ACCESS_TOKEN_TTL_S,
      refreshToken: outcome.next,
    }
  }

  /** The user's live logins (unrevoked, unexpired), most recently used first. */
  async liveLogins(userId: string): Promise<LoginListing[]> {
    const { rows } = await this.#fastify.pg.query<LoginListing>(
      `SELECT id AS "loginId", public_id AS "publicId", created_at AS "createdAt",
              last_used_at AS "lastUsedAt", user_agent AS "userAgent", address
         FROM logins WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
        ORDER BY last_used_at DESC, created_at DESC`,
      [userId],
    )
    return rows
  }

  /**
   * Moves the login's last_used_at to now unless it moved within the last minute: the guard in the
   * UPDATE holds across replicas, the in-process map spares the query on this one.
   */
  #touch(db: pg.Pool | pg.PoolClient, loginId: string): Promise<unknown> {
    const now = Date.now()
    const last = this.#touched.get(loginId)
    if (last !== undefined && now - last < LAST_USED_RESOLUTION_MS) return Promise.resolve()
    if (this.#touched.size >= 10_000) {
      for (const [id, at] of this.#touched) if (now - at >= LAST_USED_RESOLUTION_MS) this.#touched.delete(id)
      if (this.#touched.size >= 10_000) this.#touched.clear()
    }
    this.#touched.set(loginId, now)
    return db.query(
      `UPDATE logins SET last_used_at = now()
        WHERE id = $1 AND last_used_at < now() - interval '1 minute'`,
      [loginId],
    )
  }

  /**
   * A use of the login outside a refresh (session introspection, auth's account routes): moves
   * last_used_at as #touch does. A failure is logged, never the request's failure.
   */
  async used(loginId: string): Promise<void> {
    await this.#touch(this.#fastify.pg, loginId).catch((err: Error) => {
      this.#touched.delete(loginId)
      this.#fastify.log.warn({ err: err.message }, 'could not record a login as used')
    })
  }

  /** The login of a live session, or undefined (throws 503 while Redis' copies are not known complete). */
  async sessionLogin(
    sessionId: string,
  ): Promise<(LoginRef & { expiresAt: number; roles: string[] }) | undefined> {
    if (!SESSION_ID_PATTERN.test(sessionId)) return undefined
    const record = await this.#fastify.revocationReader.readSession(sessionId)
    return record && { ...record }
  }

  /**
   * For revocation (RFC 7009) only: the unrevoked login a session id names, looked up in Postgres
   * (the source of truth), whatever Redis holds: a session whose Redis record idled out still names
   * a login whose refresh token lives on, and the lookup needs no Redis at all.
   */
  async revocableSessionLogin(sessionId: string): Promise<LoginRef | undefined> {
    if (!SESSION_ID_PATTERN.test(sessionId)) return undefined
    const { rows } = await this.#fastify.pg.query<{ id: string; user_id: string }>(
      'SELECT id, user_id FROM logins WHERE session_hash = $1 AND revoked_at IS NULL',
      [hashSessionId(sessionId)],
    )
    return rows[0] ? { loginId: rows[0].id, userId: rows[0].user_id } : undefined
  }

  /**
   * For revocation (RFC 7009) only: the unrevoked login of any refresh token of its family, spent or
   * expired too. A spent token presented for revocation is reuse as much as at /auth/refresh: the
   * holder may be the victim of a thief who rotated it first, and the login must end. Unlike
   * `refreshTokenLogin`, this authorises nothing but the revocation itself.
   */
  async revocableRefreshTokenLogin(refreshToken: string): Promise<LoginRef | undefined> {
    const { rows } = await this.#fastify.pg.query<{ login_id: string; user_id: string }>(
      `SELECT t.login_id, l.user_id FROM refresh_tokens t JOIN logins l ON l.id = t.login_id
        WHERE t.token_hash = $1 AND l.revoked_at IS NULL`,
      [sha256(refreshToken)],
    )
    return rows[0] ? { loginId: rows[0].login_id, userId: rows[0].user_id } : undefined
  }

  /** The login of an unspent, unexpired refresh token of a live login. */
  async refreshTokenLogin(refreshToken: string): Promise<LoginRef | undefined> {
    const { rows } = await this.#fastify.pg.query<{ login_id: string; user_id: string }>(
      `SELECT t.login_id, l.user_id FROM refresh_tokens t JOIN logins l ON l.id = t.login_id
        WHERE t.token_hash = $1 AND t.spent_at IS NULL AND t.expires_at > now()
          AND l.revoked_at IS NULL AND l.expires_at > now()`,
      [sha256(refreshToken)],
    )
    return rows[0] ? { loginId: rows[0].login_id, userId: rows[0].user_id } : undefined
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    credentials: Credentials
  }
}

export default fp(
  async (fastify: FastifyInstance, opts: { config: AuthConfig }) => {
    fastify.decorate('credentials', new Credentials(fastify, opts.config))
  },
  {
    name: 'authlab-credentials',
    fastify: '5.x',
    dependencies: [
      'authlab-postgres',
      'authlab-redis',
      'authlab-keys',
      'authlab-users',
      'authlab-revocations',
    ],
  },
)
