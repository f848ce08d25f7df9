import { inTransaction } from '@authlab/clients'
import { ADMIN_ROLE, MAX_ROLES, ROLE_PATTERN } from '@authlab/contract'
import type { SessionRewrite } from '@authlab/revocation'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type pg from 'pg'
import type { AuthConfig } from '../../config.ts'
import {
  InvalidRolesError,
  NotAdminError,
  SelfLockoutError,
  UnauthenticatedError,
  UserNotFoundError,
} from '../../errors.ts'
import type { LoginRef } from './revocations.ts'

interface UserLogin {
  id: string
  session_hash: string
  expires_at: Date
  access_expires_at: Date | null
}

interface LockedUser {
  id: string
  roles: string[]
  disabled_at: Date | null
  roles_version: string
}

/** Who asks for a change: an admin's live login (the admin routes), or undefined (the CLI, an operator). */
export type Actor = LoginRef | undefined

/** The roles as stored: each checked, duplicates dropped, sorted (so equal sets compare equal). */
export function normalizeRoles(roles: readonly string[]): string[] {
  const unique = [...new Set(roles)].sort()
  const bad = unique.find((role) => !ROLE_PATTERN.test(role))
  if (bad !== undefined) throw new InvalidRolesError(`not a role name: ${JSON.stringify(bad)}`)
  if (unique.length > MAX_ROLES) throw new InvalidRolesError(`at most ${MAX_ROLES} roles`)
  return unique
}

/**
 * An admin's changes to a user: roles, disabling, enabling. Each goes out through the revocation
 * store, so every mode sees it within the bound it has for a revocation, without logging anyone out:
 * - the user's live sessions are rewritten in place (`session` at once, `session-cached` within its
 *   cache TTL); before COMMIT only with the roles both sets share, so a change that fails leaves no
 *   session with a role it did not grant, and with the new set after it;
 * - a per-user cut-off refuses every access token issued before the change (`jwt-denylist` at once,
 *   `jwt-pushed` within its feed bound, `introspect` at once), so the client refreshes and gets
 *   the new roles; plain `jwt` keeps the old roles until the token's `exp`.
 * Disabling revokes every login, as logout-all does, and refuses logins and refreshes after it.
 *
 * The actor's admin role is checked inside the change's transaction, with its row locked with the
 * target's: an admin demoted or disabled meanwhile cannot complete a change that was already on
 * its way (it would undo the demotion).
 */
export class Permissions {
  readonly #fastify: FastifyInstance
  readonly #config: AuthConfig

  constructor(fastify: FastifyInstance, config: AuthConfig) {
    this.#fastify = fastify
    this.#config = config
  }

  /** Sets the user's roles; resolves with the roles stored and how many sessions now carry them. */
  async changeRoles(
    actor: Actor,
    userId: string,
    roles: readonly string[],
  ): Promise<{ roles: string[]; sessions: number }> {
    const next = normalizeRoles(roles)
    if (actor?.userId === userId && !next.includes(ADMIN_ROLE)) throw new SelfLockoutError()
    const { after } = await inTransaction(this.#fastify.pg, async (db) => {
      const target = await this.#authorized(db, actor, userId)
      const version = Number(target.roles_version) + 1
      const logins = await this.#unrevokedLogins(db, userId)
      const cutoffMs = await this.#cutoff(db, userId)
      await db.query(
        'UPDATE users SET roles = $2, permissions_cutoff = $3, roles_version = $4 WHERE id = $1',
        [userId, next, cutoffMs, version],
      )
      const live = logins.filter((l) => l.expires_at.getTime() > Date.now())
      const rewrite = (roles: string[]): SessionRewrite[] =>
        live.map((l) => ({
          sessionHash: l.session_hash,
          record: { userId, loginId: l.id, expiresAt: l.expires_at.getTime(), roles, rolesVersion: version },
        }))
      if (logins.length > 0) {
        await this.#fastify.revocations.revoke(db, {
          userId,
          loginIds: [],
          reason: 'role-change',
          cutoffMs,
          cutoffCoversUntilMs: this.#latestAccessExpiry(logins),
          rewrites: rewrite(next.filter((role) => target.roles.includes(role))),
        })
      }
      return { after: rewrite(next) }
    })
    // Committed: the roles granted now reach the sessions. Should this fail, they lack them until
    // the next change or a rebuild, which errs on the side of fewer roles.
    const sessions = await this.#fastify.revocationWriter.rewriteSessions(after).catch((err: Error) => {
      this.#fastify.log.warn(
        { err: err.message },
        'role change committed; sessions keep the roles both sets share',
      )
      return 0
    })
    return { roles: next, sessions }
  }

  /** Disables the user and revokes every login; resolves with the number of logins revoked. */
  async disable(actor: Actor, userId: string): Promise<number> {
    if (actor?.userId === userId) throw new SelfLockoutError()
    return inTransaction(this.#fastify.pg, async (db) => {
      await this.#authorized(db, actor, userId)
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
  async enable(actor: Actor, userId: string): Promise<void> {
    await inTransaction(this.#fastify.pg, async (db) => {
      await this.#authorized(db, actor, userId)
      await db.query('UPDATE users SET disabled_at = NULL WHERE id = $1', [userId])
    })
  }

  /**
   * Locks the actor's and the target's rows (in id order, so two admins acting on each other
   * cannot deadlock; before any login row, the order every transaction takes), then checks the
   * actor: an enabled admin whose login is still live. Resolves with the target's row.
   */
  async #authorized(db: pg.PoolClient, actor: Actor, userId: string): Promise<LockedUser> {
    const ids = actor ? [actor.userId, userId] : [userId]
    const { rows } = await db.query<LockedUser>(
      'SELECT id, roles, disabled_at, roles_version FROM users WHERE id = ANY($1) ORDER BY id FOR UPDATE',
      [ids],
    )
    if (actor) {
      const self = rows.find((r) => r.id === actor.userId)
      if (!self?.roles.includes(ADMIN_ROLE) || self.disabled_at) throw new NotAdminError()
      const live = await db.query('SELECT 1 FROM logins WHERE id = $1 AND revoked_at IS NULL', [
        actor.loginId,
      ])
      if (live.rowCount !== 1) throw new UnauthenticatedError('The credential has been revoked')
    }
    const target = rows.find((r) => r.id === userId)
    if (!target) throw new UserNotFoundError()
    return target
  }

  /**
   * The next whole second (a JWT's `iat` has whole seconds, and every token of this second may carry
   * the old roles), and past the latest `iat` any auth replica issued the user, whatever its clock.
   * Auth issues no token before it (Users.grant's notBeforeMs).
   */
  async #cutoff(db: pg.PoolClient, userId: string): Promise<number> {
    const { rows } = await db.query<{ latest: string | null }>(
      'SELECT max(access_issued_at) AS latest FROM logins WHERE user_id = $1 AND revoked_at IS NULL',
      [userId],
    )
    const nextSecond = Math.floor(Date.now() / 1000) + 1
    return Math.max(nextSecond, Number(rows[0]?.latest ?? 0) + 1) * 1000
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
