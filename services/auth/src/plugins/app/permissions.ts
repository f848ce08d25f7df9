import { inTransaction } from '@authlab/clients'
import { MAX_ROLES, ROLE_PATTERN } from '@authlab/contract'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type pg from 'pg'
import type { AuthConfig } from '../../config.ts'
import { InvalidRolesError, UserNotFoundError } from '../../errors.ts'
import type { RevokeRequest } from './revocations.ts'

interface UserLogin {
  id: string
  session_hash: string
  expires_at: Date
  access_expires_at: Date | null
}

/** The roles as stored: each checked, duplicates dropped, sorted (so equal sets compare equal). */
export function normalizeRoles(roles: readonly string[]): string[] {
  const unique = [...new Set(roles)].sort()
  const bad = unique.find((role) => !ROLE_PATTERN.test(role))
  if (bad !== undefined) throw new InvalidRolesError(`not a role name: ${JSON.stringify(bad)}`)
  if (unique.length > MAX_ROLES) throw new InvalidRolesError(`at most ${MAX_ROLES} roles`)
  return unique
}

/**
 * An admin's changes to a user: roles, and disabling. Each goes out through the revocation store,
 * so every mode sees it within the bound it has for a revocation, without logging the user out:
 * - the user's live sessions are rewritten in place with the new roles (`session` at once,
 *   `session-cached` within its cache TTL);
 * - a per-user cut-off refuses every access token issued before the change (`jwt-denylist` at once,
 *   `jwt-pushed` within its feed bound, `introspect` at once), so the client refreshes and gets
 *   the new roles; plain `jwt` keeps the old roles until the token's `exp`.
 * Disabling revokes every login, as logout-all does, and refuses logins and refreshes after it.
 */
export class Permissions {
  readonly #fastify: FastifyInstance
  readonly #config: AuthConfig

  constructor(fastify: FastifyInstance, config: AuthConfig) {
    this.#fastify = fastify
    this.#config = config
  }

  /** Sets the user's roles; resolves with the roles stored and how many sessions were rewritten. */
  async changeRoles(
    userId: string,
    roles: readonly string[],
  ): Promise<{ roles: string[]; sessions: number }> {
    const next = normalizeRoles(roles)
    return inTransaction(this.#fastify.pg, async (db) => {
      await this.#lockUser(db, userId)
      // The next whole second: a JWT's `iat` has whole seconds, and every token of this second may
      // carry the old roles. Auth issues none before it (Users.grant's notBeforeMs).
      const cutoffMs = (Math.floor(Date.now() / 1000) + 1) * 1000
      await db.query('UPDATE users SET roles = $2, permissions_cutoff = $3 WHERE id = $1', [
        userId,
        next,
        cutoffMs,
      ])
      const logins = await this.#unrevokedLogins(db, userId)
      const live = logins.filter((l) => l.expires_at.getTime() > Date.now())
      if (logins.length > 0) {
        await this.#fastify.revocations.revoke(db, {
          userId,
          loginIds: [],
          reason: 'role-change',
          cutoffMs,
          cutoffCoversUntilMs: this.#latestAccessExpiry(logins),
          rewrites: live.map((l) => ({
            sessionHash: l.session_hash,
            record: { userId, loginId: l.id, expiresAt: l.expires_at.getTime(), roles: next },
          })),
        } satisfies RevokeRequest)
      }
      return { roles: next, sessions: live.length }
    })
  }

  /** Disables the user and revokes every login; resolves with the number of logins revoked. */
  async disable(userId: string): Promise<number> {
    return inTransaction(this.#fastify.pg, async (db) => {
      await this.#lockUser(db, userId)
      await db.query('UPDATE users SET disabled_at = now() WHERE id = $1 AND disabled_at IS NULL', [userId])
      const logins = await this.#unrevokedLogins(db, userId)
      await this.#fastify.revocations.revoke(db, {
        userId,
        loginIds: logins.map((l) => l.id),
        reason: 'user-disabled',
        cutoffMs: Date.now(),
      })
      return logins.length
    })
  }

  /** Lets the user log in again (nothing revoked comes back). */
  async enable(userId: string): Promise<void> {
    const { rowCount } = await this.#fastify.pg.query('UPDATE users SET disabled_at = NULL WHERE id = $1', [
      userId,
    ])
    if (rowCount !== 1) throw new UserNotFoundError()
  }

  /** Whether the user holds `role` now (Postgres, not a token that may predate a change). */
  async holds(userId: string, role: string): Promise<boolean> {
    const { rowCount } = await this.#fastify.pg.query(
      'SELECT 1 FROM users WHERE id = $1 AND $2 = ANY(roles) AND disabled_at IS NULL',
      [userId, role],
    )
    return rowCount === 1
  }

  /** Exclusive against every transaction issuing the user credentials (Users.grant). */
  async #lockUser(db: pg.PoolClient, userId: string): Promise<void> {
    const { rowCount } = await db.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [userId])
    if (rowCount !== 1) throw new UserNotFoundError()
  }

  async #unrevokedLogins(db: pg.PoolClient, userId: string): Promise<UserLogin[]> {
    const { rows } = await db.query<UserLogin>(
      `SELECT id, session_hash, expires_at, access_expires_at FROM logins
        WHERE user_id = $1 AND revoked_at IS NULL`,
      [userId],
    )
    return rows
  }

  /** The latest `exp` any of these logins' tokens can carry; unrecorded: what verifiers accept at all. */
  #latestAccessExpiry(logins: UserLogin[]): number {
    const unrecorded = Date.now() + this.#config.JWT_MAX_AGE_S * 1000
    return Math.max(...logins.map((l) => l.access_expires_at?.getTime() ?? unrecorded))
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    permissions: Permissions
  }
}

export default fp(
  async (fastify: FastifyInstance, opts: { config: AuthConfig }) => {
    fastify.decorate('permissions', new Permissions(fastify, opts.config))
  },
  {
    name: 'authlab-permissions',
    fastify: '5.x',
    dependencies: ['authlab-postgres', 'authlab-users', 'authlab-revocations'],
  },
)
