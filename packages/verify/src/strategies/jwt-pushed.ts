import { RevocationFeed, tokenFacts } from '@authlab/revocation'
import { UnauthorizedError, VerifierUnavailableError } from '../errors.ts'
import { modeOption } from '../options.ts'
import type { RedisStrategyContext, Strategy } from '../types.ts'

/**
 * Signature locally, revocations from a local set that Redis pushes into (see RevocationFeed): no
 * Redis round trip per request. Serves from the local set while the feed has been confirmed
 * complete within `pushedMaxStalenessMs`, then fails closed (503).
 */
export function jwtPushedStrategy(ctx: RedisStrategyContext): Strategy & { feed: RevocationFeed } {
  const bound = modeOption(ctx.options, 'pushedMaxStalenessMs')
  const feed = new RevocationFeed(ctx.redis, ctx.reader, { log: ctx.log, observer: ctx.options.feedObserver })
  feed.start()
  return {
    mode: 'jwt-pushed',
    challenge: 'Bearer',
    feed,
    ready: () => ctx.hasKeys() && feed.staleness() <= bound,
    async authenticate(request) {
      const claims = await ctx.verifyAccessToken(request)
      if (feed.staleness() > bound) throw new VerifierUnavailableError('revocation feed is stale')
      if (feed.isRevoked(tokenFacts(claims))) throw new UnauthorizedError('token revoked')
      return { userId: claims.sub, loginId: claims.sid, roles: claims.roles }
    },
    close: () => feed.close(),
  }
}
