import { duplicateRedis, inTransaction, redisReady } from '@authlab/clients'
import {
  type Revocation,
  RevocationReader,
  RevocationReconciler,
  RevocationWriter,
  type RevokeBatch,
  revocationLog,
} from '@authlab/revocation'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type pg from 'pg'
import type { AuthConfig } from '../../config.ts'

interface LockedLogin {
  id: string
  session_hash: string
  revoked_at: Date | null
  access_expires_at: Date | null
}

/** A login as a credential names it. */
export interface LoginRef {
  loginId: string
  userId: string
}

/** Why a login was revoked: the log's `reason`, the metric's label. */
export type RevokeReason =
  | 'logout'
  | 'logout-all'
  | 'refresh-token-reuse'
  | 'revoke'
  | 'password-change'
  | 'session-end'
  | 'logout-others'
  | 'role-change'
  | 'user-disabled'

export interface RevokeRequest {
  userId: string
  loginIds: string[]
  reason: RevokeReason
  /** The presented access token, denied by its own id too. */
  jti?: { jti: string; exp: number }
  /** logout-all, a role change, disabling: the per-user cut-off, epoch ms. */
  cutoffMs?: number
  /**
   * The latest `exp` (epoch ms) of a token the cut-off covers that no login entry of this request
   * denies (a role change revokes no login): the cut-off lives at least that long.
   */
  cutoffCoversUntilMs?: number
  /** Sessions that stay, rewritten in place (a role change); see RevokeBatch.rewrites. */
  rewrites?: RevokeBatch['rewrites']
}

/**
 * Revoking: Postgres first (the log is the source of truth), Redis' copies in the same transaction
 * before COMMIT, so an outage of either store leaves nothing half-written (the one window left, a
 * failed COMMIT after Redis applied the revocation, errs on the side of revoking).
 */
export class Revocations {
  readonly #pool: pg.Pool
  readonly #writer: RevocationWriter
  readonly #config: AuthConfig

  constructor(pool: pg.Pool, writer: RevocationWriter, config: AuthConfig) {
    this.#pool = pool
    this.#writer = writer
    this.#config = config
  }

  /**
   * logout (and RFC 7009 revocation, `reason` 'revoke'): the session, every JWT of the login (by
   * login id, and the presented `jti`), the refresh family.
   */
  logout(ref: LoginRef, jti?: RevokeRequest['jti'], reason: RevokeReason = 'logout'): Promise<void> {
    return inTransaction(this.#pool, (db) =>
      this.revoke(db, {
        userId: ref.userId,
        loginIds: [ref.loginId],
        reason,
        ...(jti ? { jti } : {}),
      }),
    )
  }

  /**
   * logout-all: every login of the user, plus a per-user cut-off. The user's row lock, which every
   * login also takes (shared), makes this atomic against logins racing it: a login either committed
   * before the lock (and is revoked here) or starts after the COMMIT (and is a new login).
   */
  logoutAll(userId: string): Promise<void> {
    return inTransaction(this.#pool, async (db) => {
      await db.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [userId])
      const cutoffMs = Date.now()
      const { rows } = await db.query<{ id: string }>(
        'SELECT id FROM logins WHERE user_id = $1 AND revoked_at IS NULL',
        [userId],
      )
      await this.revoke(db, { userId, loginIds: rows.map((r) => r.id), reason: 'logout-all', cutoffMs })
    })
  }

  /**
   * DELETE /auth/sessions/{id}: the user's live login with that public id, as logout revokes it.
   * False when there is none (unknown, someone else's, already ended): the caller cannot tell which.
   */
  endSession(userId: string, publicId: string): Promise<boolean> {
    return inTransaction(this.#pool, async (db) => {
      const { rows } = await db.query<{ id: string }>(
        `SELECT id FROM logins
          WHERE public_id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now()`,
        [publicId, userId],
      )
      const loginId = rows[0]?.id
      if (!loginId) return false
      await this.revoke(db, { userId, loginIds: [loginId], reason: 'session-end' })
      return true
    })
  }

  /**
   * POST /auth/logout-others: every unrevoked login of the user but `keepLoginId`, each as logout
   * revokes it (no per-user cut-off: that would end the kept login's tokens too). Resolves with the
   * number revoked. A login committing meanwhile is a new login, listed and kept.
   */
  logoutOthers(userId: string, keepLoginId: string): Promise<number> {
    return inTransaction(this.#pool, async (db) => {
      const { rows } = await db.query<{ id: string }>(
        'SELECT id FROM logins WHERE user_id = $1 AND revoked_at IS NULL AND id <> $2',
        [userId, keepLoginId],
      )
      const loginIds = rows.map((r) => r.id)
      if (loginIds.length > 0) await this.revoke(db, { userId, loginIds, reason: 'logout-others' })
      return loginIds.length
    })
  }

  /** Revokes within the caller's transaction. */
  async revoke(db: pg.PoolClient, what: RevokeRequest): Promise<void> {
    await revocationLog.lockShared(db)
    // Locked before anything is read: a refresh or logout of these logins in flight commits first,
    // so the recorded expiries below include every token it issued.
    const logins = await this.#lockLogins(db, what.loginIds)
    const entries = this.#denyEntries(what, logins)
    const sessions = logins.filter((l) => l.revoked_at === null).map((l) => l.session_hash)
    await db.query(
      `UPDATE logins SET revoked_at = clock_timestamp(), revoke_reason = $2
        WHERE id = ANY($1) AND revoked_at IS NULL`,
      [what.loginIds, what.reason],
    )
    await db.query(
      'UPDATE refresh_tokens SET spent_at = now() WHERE login_id = ANY($1) AND spent_at IS NULL',
      [what.loginIds],
    )
    const watermark = await revocationLog.append(db, what.userId, what.reason, entries)
    await this.#writer.revoke({
      entries,
      sessionHashes: sessions,
      watermark,
      ...(what.rewrites ? { rewrites: what.rewrites } : {}),
    })
  }

  #lockLogins(db: pg.PoolClient, loginIds: string[]): Promise<LockedLogin[]> {
    return db
      .query<LockedLogin>(
        `SELECT id, session_hash, revoked_at, access_expires_at FROM logins
          WHERE id = ANY($1) ORDER BY id FOR UPDATE`,
        [loginIds],
      )
      .then((r) => r.rows)
  }

  /**
   * A deny entry must outlive every token it denies, on every verifier: it lives until the latest
   * `exp` the login was issued (recorded in Postgres, whatever ACCESS_TOKEN_TTL_S is now), plus
   * the clock tolerance twice, since a verifier whose clock lags accepts a token until its own
   * clock reads `exp` + tolerance while the entry's lifetime is counted on this replica's clock.
   * A login without a recorded expiry is bounded by what verifiers accept at all (JWT_MAX_AGE_S).
   */
  #denyEntries(what: RevokeRequest, logins: LockedLogin[]): Revocation[] {
    const now = Date.now()
    const margin = 2 * this.#config.JWT_CLOCK_TOLERANCE_S * 1000
    const unrecorded = now + this.#config.JWT_MAX_AGE_S * 1000
    const expiries = new Map(logins.map((l) => [l.id, l.access_expires_at?.getTime() ?? unrecorded]))
    const entries: Revocation[] = what.loginIds.map((value) => ({
      kind: 'login',
      value,
      expiresAt: (expiries.get(value) ?? unrecorded) + margin,
    }))
    if (what.jti && what.jti.exp * 1000 + margin > now) {
      entries.push({ kind: 'jti', value: what.jti.jti, expiresAt: what.jti.exp * 1000 + margin })
    }
    if (what.cutoffMs !== undefined) {
      // Every token the cut-off covers belongs to a login revoked with it or before it, whose own
      // entry lives as long as that token can, or to one the request names the latest expiry of.
      const covered = (what.cutoffCoversUntilMs ?? 0) + margin
      const latest = Math.max(now + margin, covered, ...entries.map((e) => e.expiresAt))
      entries.push({ kind: 'user', value: what.userId, cutoff: what.cutoffMs, expiresAt: latest })
    }
    return entries
  }

  /**
   * The login exists and is not revoked, expired or not: a JWT it issued near its absolute expiry
   * may outlive it, and is still worth denying.
   */
  async isUnrevoked(loginId: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query('SELECT 1 FROM logins WHERE id = $1 AND revoked_at IS NULL', [
      loginId,
    ])
    return rowCount === 1
  }

  /** The login, if it exists, is not revoked and has not expired (Postgres: the source of truth). */
  async isLive(loginId: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      'SELECT 1 FROM logins WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()',
      [loginId],
    )
    return rowCount === 1
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    revocations: Revocations
    revocationWriter: RevocationWriter
    revocationReader: RevocationReader
    reconciler: RevocationReconciler
  }
}

async function revocationsPlugin(fastify: FastifyInstance, { config }: { config: AuthConfig }) {
  if (config.REDIS_MODE !== 'standalone' && config.REDIS_WAIT_REPLICAS === 0) {
    fastify.log.warn(
      'REDIS_WAIT_REPLICAS=0 with replicas: a failover can lose a fresh login and, on a cluster, bring back a deleted session',
    )
  }
  // Writes on connections of their own: WAIT holds its connection until a replica confirms, and
  // the login throttle, introspection and readiness must not queue behind it.
  const writes = duplicateRedis(fastify.redis)
  writes.on('error', () => {})
  writes.on('node error', () => {})
  const writer = new RevocationWriter(writes, {
    waitReplicas: config.REDIS_WAIT_REPLICAS ?? 0,
    waitTimeoutMs: config.REDIS_WAIT_TIMEOUT_MS,
  })
  const reader = new RevocationReader(fastify.redis, {
    onError: (err) => fastify.log.warn({ err: err.message }, 'revocation readiness check failed'),
  })
  const reconciler = new RevocationReconciler(fastify.redis, fastify.pg, writer)
  fastify.decorate('revocationWriter', writer)
  fastify.decorate('revocationReader', reader)
  fastify.decorate('reconciler', reconciler)
  fastify.decorate('revocations', new Revocations(fastify.pg, writer, config))

  const reconcile = async () => {
    if (fastify.redis.status !== 'ready') return
    try {
      const result = await reconciler.reconcile()
      if (result.rebuilt) {
        fastify.log.warn(result, 'redis revocation copies were incomplete: rebuilt from the postgres log')
        await reader.check()
      }
    } catch (err) {
      fastify.log.warn({ err: (err as Error).message }, 'revocation reconcile failed; retrying')
    }
  }
  // Each (re)connection may be to a Redis that restarted with part of its data; and between
  // reconnects, a periodic comparison catches keys lost without a restart.
  fastify.redis.on('ready', reconcile)
  writes.on('ready', reconcile)
  const timer = setInterval(reconcile, config.RECONCILE_INTERVAL_MS)
  timer.unref()
  fastify.addHook('onReady', async () => {
    reader.start()
    await redisReady(writes, config.REDIS_COMMAND_TIMEOUT_MS * 4).catch(() => {})
    await reconcile()
    await reader.check()
  })
  fastify.addHook('onClose', async () => {
    clearInterval(timer)
    fastify.redis.off('ready', reconcile)
    reader.close()
    await writes.quit().catch(() => writes.disconnect())
  })
}

export default fp(revocationsPlugin, {
  name: 'authlab-revocations',
  fastify: '5.x',
  dependencies: ['authlab-postgres', 'authlab-redis', 'authlab-migrations'],
})
