import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { inTransaction } from '@authlab/clients'
import {
  type AccessClaims,
  hashSessionId,
  REVOCATION_CHANNEL,
  type Revocation,
  redisKeys,
  revocationMember,
  SESSION_ID_PATTERN,
  type SessionRecord,
} from '@authlab/contract'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type pg from 'pg'
import type { AuthConfig } from '../../config.ts'
import { RefreshInvalidError, RefreshReusedError, RevocationsNotReadyError } from '../../errors.ts'
import type { User } from './users.ts'

export interface IssuedLogin {
  accessToken: string
  expiresIn: number
  refreshToken: string
  sessionId: string
  loginId: string
}

export interface LoginRef {
  loginId: string
  userId: string
}

const randomToken = () => randomBytes(32).toString('base64url')
const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url')

/**
 * Issues and revokes credentials. Every change is made in Postgres and Redis together: the Postgres
 * transaction commits only after the Redis writes succeeded, so an outage of either store leaves
 * nothing half-written (the one remaining window, a failed COMMIT after Redis accepted a
 * revocation, errs on the side of revoking).
 */
export class Credentials {
  readonly #fastify: FastifyInstance
  readonly #config: AuthConfig

  constructor(fastify: FastifyInstance, config: AuthConfig) {
    this.#fastify = fastify
    this.#config = config
  }

  get #redis() {
    return this.#fastify.redis
  }

  #signAccess(sub: string, loginId: string): string {
    return this.#fastify.keys.sign({ sub, sid: loginId, jti: randomUUID() }).token
  }

  async login(user: User): Promise<IssuedLogin> {
    const c = this.#config
    const sessionId = randomToken()
    const loginId = randomUUID()
    const refreshToken = randomToken()
    const now = Date.now()
    const absolute = now + c.SESSION_ABSOLUTE_TTL_S * 1000
    await inTransaction(this.#fastify.pg, async (db) => {
      await db.query('INSERT INTO logins (id, user_id, session_hash, expires_at) VALUES ($1, $2, $3, $4)', [
        loginId,
        user.id,
        hashSessionId(sessionId),
        new Date(absolute),
      ])
      await db.query('INSERT INTO refresh_tokens (token_hash, login_id, expires_at) VALUES ($1, $2, $3)', [
        sha256(refreshToken),
        loginId,
        new Date(Math.min(absolute, now + c.REFRESH_TOKEN_TTL_S * 1000)),
      ])
      const record: SessionRecord = { sub: user.id, lid: loginId, abs: absolute }
      await this.#redis.set(
        redisKeys.session(sessionId),
        JSON.stringify(record),
        'PX',
        c.SESSION_IDLE_TTL_S * 1000,
      )
    })
    return {
      accessToken: this.#signAccess(user.id, loginId),
      expiresIn: c.ACCESS_TOKEN_TTL_S,
      refreshToken,
      sessionId,
      loginId,
    }
  }

  /** Rotation: the presented token is spent and a new one issued; presenting a spent one revokes the login. */
  async refresh(
    refreshToken: string,
  ): Promise<{ accessToken: string; expiresIn: number; refreshToken: string }> {
    const outcome = await inTransaction(this.#fastify.pg, async (db) => {
      const { rows } = await db.query<{
        login_id: string
        user_id: string
        spent_at: Date | null
        expires_at: Date
        revoked_at: Date | null
      }>(
        `SELECT t.login_id, l.user_id, t.spent_at, t.expires_at, l.revoked_at
           FROM refresh_tokens t JOIN logins l ON l.id = t.login_id
          WHERE t.token_hash = $1 FOR UPDATE OF t, l`,
        [sha256(refreshToken)],
      )
      const row = rows[0]
      if (!row || row.revoked_at || row.expires_at.getTime() <= Date.now())
        return { kind: 'invalid' as const }
      if (row.spent_at) {
        await this.#revoke(db, {
          userId: row.user_id,
          loginIds: [row.login_id],
          reason: 'refresh-token-reuse',
        })
        return { kind: 'reused' as const }
      }
      const next = randomToken()
      await db.query('UPDATE refresh_tokens SET spent_at = now() WHERE token_hash = $1', [
        sha256(refreshToken),
      ])
      await db.query('INSERT INTO refresh_tokens (token_hash, login_id, expires_at) VALUES ($1, $2, $3)', [
        sha256(next),
        row.login_id,
        row.expires_at,
      ])
      return { kind: 'ok' as const, next, userId: row.user_id, loginId: row.login_id }
    })
    // Thrown after the transaction so the reuse revocation commits.
    if (outcome.kind === 'invalid') throw new RefreshInvalidError()
    if (outcome.kind === 'reused') throw new RefreshReusedError()
    return {
      accessToken: this.#signAccess(outcome.userId, outcome.loginId),
      expiresIn: this.#config.ACCESS_TOKEN_TTL_S,
      refreshToken: outcome.next,
    }
  }

  /** logout: the session, every JWT of the login (by login id, and the presented `jti`), the refresh family. */
  async logout(ref: LoginRef, jti?: { jti: string; exp: number }): Promise<void> {
    await inTransaction(this.#fastify.pg, (db) =>
      this.#revoke(db, {
        userId: ref.userId,
        loginIds: [ref.loginId],
        reason: 'logout',
        ...(jti ? { jti } : {}),
      }),
    )
  }

  /** logout-all: every login of the user that exists now, plus a per-user cut-off time. */
  async logoutAll(userId: string): Promise<void> {
    await inTransaction(this.#fastify.pg, async (db) => {
      const { rows } = await db.query<{ id: string }>(
        'SELECT id FROM logins WHERE user_id = $1 AND revoked_at IS NULL FOR UPDATE',
        [userId],
      )
      await this.#revoke(db, { userId, loginIds: rows.map((r) => r.id), reason: 'logout-all', cutoff: true })
    })
  }

  async #revoke(
    db: pg.PoolClient,
    what: {
      userId: string
      loginIds: string[]
      reason: string
      jti?: { jti: string; exp: number }
      cutoff?: boolean
    },
  ): Promise<void> {
    const now = Date.now()
    // Any access token of these logins was issued before now, so it is dead by now + TTL.
    const tokensDeadAt = now + this.#config.ACCESS_TOKEN_TTL_S * 1000
    const entries: Revocation[] = what.loginIds.map((value) => ({
      kind: 'lid',
      value,
      expiresAt: tokensDeadAt,
    }))
    if (what.jti && what.jti.exp * 1000 > now) {
      entries.push({ kind: 'jti', value: what.jti.jti, expiresAt: what.jti.exp * 1000 })
    }
    if (what.cutoff) {
      // Tokens carry `iat` in whole seconds; the cut-off rejects every earlier second, and the login
      // denials above cover tokens issued in the current second.
      entries.push({
        kind: 'user',
        value: what.userId,
        cutoff: Math.floor(now / 1000),
        expiresAt: tokensDeadAt,
      })
    }
    const { rows: sessions } = await db.query<{ session_hash: string }>(
      `UPDATE logins SET revoked_at = now(), revoke_reason = $2
        WHERE id = ANY($1) AND revoked_at IS NULL RETURNING session_hash`,
      [what.loginIds, what.reason],
    )
    await db.query(
      'UPDATE refresh_tokens SET spent_at = now() WHERE login_id = ANY($1) AND spent_at IS NULL',
      [what.loginIds],
    )
    for (const e of entries) {
      await db.query(
        `INSERT INTO revocations (kind, value, user_id, cutoff, reason, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
        [
          e.kind,
          e.value,
          what.userId,
          e.kind === 'user' ? e.cutoff : null,
          what.reason,
          new Date(e.expiresAt),
        ],
      )
    }
    const multi = this.#redis.multi()
    for (const s of sessions) multi.del(redisKeys.sessionByHash(s.session_hash))
    writeRevocations(multi, entries, now)
    multi.publish(REVOCATION_CHANNEL, JSON.stringify(entries))
    await execOrThrow(multi)
  }

  /** The login a session id belongs to, or undefined when there is no such live session. */
  async sessionLogin(sessionId: string): Promise<(LoginRef & { abs: number }) | undefined> {
    if (!SESSION_ID_PATTERN.test(sessionId)) return undefined
    const raw = await this.#redis.get(redisKeys.session(sessionId))
    if (!raw) return undefined
    const record = JSON.parse(raw) as SessionRecord
    if (record.abs <= Date.now()) return undefined
    return { loginId: record.lid, userId: record.sub, abs: record.abs }
  }

  async refreshTokenLogin(refreshToken: string): Promise<LoginRef | undefined> {
    const { rows } = await this.#fastify.pg.query<{ login_id: string; user_id: string }>(
      `SELECT t.login_id, l.user_id FROM refresh_tokens t JOIN logins l ON l.id = t.login_id
        WHERE t.token_hash = $1 AND l.revoked_at IS NULL`,
      [sha256(refreshToken)],
    )
    return rows[0] ? { loginId: rows[0].login_id, userId: rows[0].user_id } : undefined
  }

  /** True when a verified token has been revoked; throws (503) while Redis' copies are incomplete. */
  async isRevoked(claims: AccessClaims): Promise<boolean> {
    const [ready, jti, lid, cutoff] = await this.#redis.mget(
      redisKeys.revocationsReady,
      redisKeys.deniedJti(claims.jti),
      redisKeys.deniedLogin(claims.sid),
      redisKeys.userCutoff(claims.sub),
    )
    if (!ready) throw new RevocationsNotReadyError()
    return jti !== null || lid !== null || (cutoff !== null && claims.iat < Number(cutoff))
  }

  /**
   * Rewrites Redis' copies of every live revocation from the Postgres log, then sets the marker
   * that tells verifiers the copies are complete. Run at start and whenever Redis comes back without
   * the marker (it restarted and lost its data).
   */
  async rebuildRevocations(): Promise<number> {
    const { rows } = await this.#fastify.pg.query<{
      kind: Revocation['kind']
      value: string
      cutoff: string | null
      expires_at: Date
    }>('SELECT kind, value, cutoff, expires_at FROM revocations WHERE expires_at > now()')
    const entries = rows.map(
      (r) =>
        ({
          kind: r.kind,
          value: r.value,
          cutoff: Number(r.cutoff),
          expiresAt: r.expires_at.getTime(),
        }) as Revocation,
    )
    const multi = this.#redis.multi()
    writeRevocations(multi, entries, Date.now())
    multi.set(redisKeys.revocationsReady, String(Date.now()))
    multi.publish(REVOCATION_CHANNEL, JSON.stringify(entries))
    await execOrThrow(multi)
    return entries.length
  }
}

type Multi = ReturnType<FastifyInstance['redis']['multi']>

function writeRevocations(multi: Multi, entries: Revocation[], now: number): void {
  for (const e of entries) {
    const ttl = e.expiresAt - now
    if (ttl <= 0) continue
    if (e.kind === 'jti') multi.set(redisKeys.deniedJti(e.value), '1', 'PX', ttl)
    else if (e.kind === 'lid') multi.set(redisKeys.deniedLogin(e.value), '1', 'PX', ttl)
    else multi.set(redisKeys.userCutoff(e.value), String(e.cutoff), 'PX', ttl)
    multi.zadd(redisKeys.revocationSet, e.expiresAt, revocationMember(e))
  }
  multi.zremrangebyscore(redisKeys.revocationSet, '-inf', now)
}

async function execOrThrow(multi: Multi): Promise<void> {
  const results = await multi.exec()
  const failed = results?.find(([err]) => err)
  if (!results || failed) throw failed?.[0] ?? new Error('redis transaction discarded')
}

declare module 'fastify' {
  interface FastifyInstance {
    credentials: Credentials
  }
}

async function credentialsPlugin(fastify: FastifyInstance, opts: { config: AuthConfig }) {
  const credentials = new Credentials(fastify, opts.config)
  fastify.decorate('credentials', credentials)

  let rebuilding: Promise<void> | undefined
  const ensureRevocations = () => {
    rebuilding ??= (async () => {
      try {
        if (await fastify.redis.exists(redisKeys.revocationsReady)) return
        const count = await credentials.rebuildRevocations()
        fastify.log.warn({ count }, 'redis had no revocation state: rebuilt it from the postgres log')
      } catch (err) {
        fastify.log.warn(
          { err: (err as Error).message },
          'revocation rebuild failed; retrying on next reconnect',
        )
      } finally {
        rebuilding = undefined
      }
    })()
    return rebuilding
  }
  // Each (re)connection may be to a Redis that lost its data.
  fastify.redis.on('ready', ensureRevocations)
  fastify.addHook('onReady', async () => {
    if (fastify.redis.status === 'ready') await ensureRevocations()
  })
}

export default fp(credentialsPlugin, {
  name: 'authlab-credentials',
  fastify: '5.x',
  dependencies: ['authlab-postgres', 'authlab-redis', 'authlab-keys'],
})
