import { modeOption } from '../options.ts'
import type { Principal, RedisStrategyContext, Strategy } from '../types.ts'
import { lookupSession } from './session.ts'

/**
 * A per-replica cache in front of the session lookup: at most one Redis read per session per TTL.
 * The price is that a revoked session keeps working here for up to the TTL after the revocation,
 * and that cached entries keep serving while Redis is down (then 503).
 */
export function sessionCachedStrategy(ctx: RedisStrategyContext): Strategy {
  const ttl = modeOption(ctx.options, 'sessionCacheTtlMs')
  const max = modeOption(ctx.options, 'sessionCacheMaxEntries')
  const idleTtlMs = modeOption(ctx.options, 'sessionIdleTtlMs')
  const cache = new Map<string, { principal: Principal; until: number }>()
  return {
    mode: 'session-cached',
    challenge: 'Cookie',
    ready: () => ctx.reader.ready,
    async authenticate(request) {
      const sessionId = ctx.sessionCookie(request)
      // Taken before the lookup: the entry is as old as the read it caches, never younger.
      const readAt = Date.now()
      const hit = sessionId ? cache.get(sessionId) : undefined
      if (hit && hit.until > readAt) return hit.principal
      const principal = await lookupSession(ctx, sessionId, idleTtlMs)
      // A Map iterates in insertion order: deleting the first key evicts the oldest entry.
      if (cache.size >= max) cache.delete(cache.keys().next().value as string)
      cache.set(sessionId as string, { principal, until: readAt + ttl })
      return principal
    },
  }
}
