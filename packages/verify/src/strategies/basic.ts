import { asStoreError } from '@authlab/clients'
import { redisKeys, SESSION_ID_PATTERN, type SessionRecord } from '@authlab/contract'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Pool } from 'undici'
import { UnauthorizedError, VerifierUnavailableError } from '../errors.ts'
import type { Principal, Strategy } from '../types.ts'

const deps = { fastify: '5.x', dependencies: ['authlab-verify-core'] }

/** Baseline: no credential, no work, so the other modes' cost can be read against it. */
export const noneStrategy = fp(
  async (fastify: FastifyInstance) => {
    const strategy: Strategy = { mode: 'none', authenticate: async () => ({ sub: 'anonymous' }) }
    fastify.authStrategies.set('none', strategy)
  },
  { ...deps, name: 'authlab-strategy-none' },
)

/** Stateless: signature and claims only. A revoked token keeps working until its `exp`. */
export const jwtStrategy = fp(
  async (fastify: FastifyInstance) => {
    fastify.authStrategies.set('jwt', {
      mode: 'jwt',
      async authenticate(request) {
        const claims = await fastify.verifyAccessToken(request)
        return { sub: claims.sub, lid: claims.sid }
      },
    })
  },
  { ...deps, name: 'authlab-strategy-jwt' },
)

/** One GETEX per request: reads the session and slides its idle timeout in the same command. */
export async function lookupSession(
  fastify: FastifyInstance,
  sessionId: string | undefined,
): Promise<Principal> {
  if (!sessionId) throw new UnauthorizedError('no session cookie')
  // Not even a well-formed id: no need to ask Redis.
  if (!SESSION_ID_PATTERN.test(sessionId)) throw new UnauthorizedError('invalid session')
  let raw: string | null
  try {
    raw = await fastify.redis.getex(
      redisKeys.session(sessionId),
      'PX',
      fastify.verifyOptions.sessionIdleTtlMs,
    )
  } catch (err) {
    throw unavailable(err, 'session store')
  }
  if (!raw) throw new UnauthorizedError('invalid session')
  const record = JSON.parse(raw) as SessionRecord
  if (record.abs <= Date.now()) throw new UnauthorizedError('session expired')
  return { sub: record.sub, lid: record.lid }
}

export function unavailable(err: unknown, what: string): Error {
  const mapped = asStoreError(err)
  return mapped === err ? (err as Error) : new VerifierUnavailableError(`${what} unreachable`)
}

export const sessionStrategy = fp(
  async (fastify: FastifyInstance) => {
    fastify.authStrategies.set('session', {
      mode: 'session',
      authenticate: (request: FastifyRequest) => lookupSession(fastify, fastify.sessionCookie(request)),
    })
  },
  { ...deps, name: 'authlab-strategy-session' },
)

/**
 * A per-replica cache in front of the session lookup: at most one Redis read per session per TTL.
 * The price is that a revoked session keeps working here for up to the TTL, and that cached entries
 * keep serving while Redis is down (then 503).
 */
export const sessionCachedStrategy = fp(
  async (fastify: FastifyInstance) => {
    const { sessionCacheTtlMs: ttl, sessionCacheMaxEntries: max } = fastify.verifyOptions
    const cache = new Map<string, { principal: Principal; until: number }>()
    fastify.authStrategies.set('session-cached', {
      mode: 'session-cached',
      async authenticate(request) {
        const sessionId = fastify.sessionCookie(request)
        const now = Date.now()
        const hit = sessionId ? cache.get(sessionId) : undefined
        if (hit && hit.until > now) return hit.principal
        const principal = await lookupSession(fastify, sessionId)
        // A Map iterates in insertion order: deleting the first key evicts the oldest entry.
        if (cache.size >= max) cache.delete(cache.keys().next().value as string)
        cache.set(sessionId as string, { principal, until: now + ttl })
        return principal
      },
    })
  },
  { ...deps, name: 'authlab-strategy-session-cached' },
)

/** Signature locally, then one Redis round trip for the jti, the login and the user's cut-off. */
export const jwtDenylistStrategy = fp(
  async (fastify: FastifyInstance) => {
    const failOpen = fastify.verifyOptions.denylistFailOpen
    fastify.authStrategies.set('jwt-denylist', {
      mode: 'jwt-denylist',
      async authenticate(request) {
        const claims = await fastify.verifyAccessToken(request)
        let values: (string | null)[]
        try {
          values = await fastify.redis.mget(
            redisKeys.revocationsReady,
            redisKeys.deniedJti(claims.jti),
            redisKeys.deniedLogin(claims.sid),
            redisKeys.userCutoff(claims.sub),
          )
        } catch (err) {
          if (failOpen) {
            request.log.warn('denylist unreachable: failing open as configured (DENYLIST_FAIL_OPEN)')
            return { sub: claims.sub, lid: claims.sid }
          }
          throw unavailable(err, 'denylist')
        }
        const [ready, jti, lid, cutoff] = values
        // An empty Redis (data lost, not yet rebuilt by auth) must not read as "nothing revoked".
        if (!ready && !failOpen) throw new VerifierUnavailableError('denylist is being rebuilt')
        if (jti !== null || lid !== null || (cutoff !== null && claims.iat < Number(cutoff))) {
          throw new UnauthorizedError('token revoked')
        }
        return { sub: claims.sub, lid: claims.sid }
      },
    })
  },
  { ...deps, name: 'authlab-strategy-jwt-denylist' },
)

/**
 * Asks auth (RFC 7662) on every request: exact, and as available as auth is. A dedicated keep-alive
 * connection pool (undici) rather than fetch(): the per-request cost of the extra hop is the point
 * of this mode's measurement, and fetch's per-call overhead would inflate it.
 */
export const introspectStrategy = fp(
  async (fastify: FastifyInstance) => {
    const { authUrl, introspectTimeoutMs } = fastify.verifyOptions
    const pool = new Pool(authUrl, {
      connections: 32,
      keepAliveTimeout: 30_000,
      connectTimeout: introspectTimeoutMs,
    })
    fastify.addHook('onClose', () => pool.close())
    fastify.authStrategies.set('introspect', {
      mode: 'introspect',
      async authenticate(request) {
        const header = request.headers.authorization
        const token = header?.toLowerCase().startsWith('bearer ')
          ? header.slice(7).trim()
          : (fastify.accessCookie(request) ?? fastify.sessionCookie(request))
        if (!token) throw new UnauthorizedError('no credential')
        let statusCode: number
        let body: { active: boolean; sub?: string; sid?: string }
        try {
          const res = await pool.request({
            method: 'POST',
            path: '/auth/introspect',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ token }),
            headersTimeout: introspectTimeoutMs,
            bodyTimeout: introspectTimeoutMs,
          })
          statusCode = res.statusCode
          body = (await res.body.json()) as typeof body
        } catch {
          throw new VerifierUnavailableError('auth unreachable')
        }
        if (statusCode === 400) throw new UnauthorizedError('invalid token')
        if (statusCode !== 200) throw new VerifierUnavailableError(`auth answered ${statusCode}`)
        if (!body.active || !body.sub) throw new UnauthorizedError('token inactive')
        return { sub: body.sub, ...(body.sid ? { lid: body.sid } : {}) }
      },
    })
  },
  { ...deps, name: 'authlab-strategy-introspect' },
)
