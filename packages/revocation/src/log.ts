import type pg from 'pg'
import type { Revocation } from './types.ts'
import type { SessionRewrite } from './writer.ts'

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>

/**
 * The Postgres revocation log: the source of truth. Auth appends to it in the transaction that
 * revokes; Redis' copies are rebuilt from it. Table and indexes: services/auth/migrations.
 */
// Revoking transactions hold it shared, a rebuild exclusively: a revocation that wrote Redis
// before a restart but commits after the rebuild read the log would otherwise be lost.
const REBUILD_LOCK = 0x7265766f

export const revocationLog = {
  /** Taken by every revoking transaction, before it writes Redis. */
  async lockShared(db: pg.PoolClient): Promise<void> {
    await db.query('SELECT pg_advisory_xact_lock_shared($1)', [REBUILD_LOCK])
  },

  /** Taken by a rebuild: waits for revoking transactions in flight and holds new ones back. */
  async lockExclusive(db: pg.PoolClient): Promise<void> {
    await db.query('SELECT pg_advisory_xact_lock($1)', [REBUILD_LOCK])
  },

  /** Appends entries; resolves with the highest id given (ids are unique, not commit-ordered). */
  async append(db: Queryable, userId: string, reason: string, entries: Revocation[]): Promise<number> {
    if (entries.length === 0) return 0
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO revocations (kind, value, user_id, cutoff, reason, expires_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::bigint[], $5::text[], $6::timestamptz[])
       RETURNING id`,
      [
        entries.map((e) => e.kind),
        entries.map((e) => e.value),
        entries.map(() => userId),
        entries.map((e) => (e.kind === 'user' ? e.cutoff : null)),
        entries.map(() => reason),
        entries.map((e) => new Date(e.expiresAt)),
      ],
    )
    return Math.max(...rows.map((r) => Number(r.id)))
  },

  /** The highest id committed so far (0 for an empty log). */
  async maxId(db: Queryable): Promise<number> {
    const { rows } = await db.query<{ max: string | null }>('SELECT max(id) AS max FROM revocations')
    return Number(rows[0]?.max ?? 0)
  },

  /**
   * Every entry that still matters, with each user's cut-off reduced to its maximum (a later
   * logout-all must never be undone by an earlier one written after it).
   */
  async live(db: Queryable): Promise<Revocation[]> {
    const { rows } = await db.query<{
      kind: Revocation['kind']
      value: string
      cutoff: string | null
      expires_at: Date
    }>(
      `SELECT kind, value, max(cutoff) AS cutoff, max(expires_at) AS expires_at
         FROM revocations WHERE expires_at > now() GROUP BY kind, value`,
    )
    return rows.map((r) =>
      r.kind === 'user'
        ? { kind: 'user', value: r.value, cutoff: Number(r.cutoff), expiresAt: r.expires_at.getTime() }
        : { kind: r.kind, value: r.value, expiresAt: r.expires_at.getTime() },
    )
  },

  /**
   * The sessions role changes rewrote in place, as they must read now: every live login of a user
   * whose roles ever changed, with the user's current roles and their version. A Redis that lost
   * writes may hold such a session with older roles; the rebuild rewrites it (never over a newer
   * version: see RevocationWriter.rewriteSessions).
   */
  async rewrittenSessions(db: Queryable): Promise<SessionRewrite[]> {
    const { rows } = await db.query<{
      session_hash: string
      id: string
      user_id: string
      expires_at: Date
      roles: string[]
      roles_version: string
    }>(
      `SELECT l.session_hash, l.id, l.user_id, l.expires_at, u.roles, u.roles_version
         FROM logins l JOIN users u ON u.id = l.user_id
        WHERE l.revoked_at IS NULL AND l.expires_at > now() AND u.roles_version > 0`,
    )
    return rows.map((r) => ({
      sessionHash: r.session_hash,
      record: {
        userId: r.user_id,
        loginId: r.id,
        expiresAt: r.expires_at.getTime(),
        roles: r.roles,
        rolesVersion: Number(r.roles_version),
      },
    }))
  },

  /** Session hashes of logins revoked before their absolute expiry: none of them may come back. */
  async revokedSessionHashes(db: Queryable): Promise<string[]> {
    const { rows } = await db.query<{ session_hash: string }>(
      'SELECT session_hash FROM logins WHERE revoked_at IS NOT NULL AND expires_at > now()',
    )
    return rows.map((r) => r.session_hash)
  },
}
