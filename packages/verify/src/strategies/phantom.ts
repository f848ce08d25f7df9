import type { Strategy, StrategyContext } from '../types.ts'

/**
 * Verification at the gateway (the phantom-token pattern): nginx exchanges the client's session for
 * a short-lived internal token at auth and overwrites Authorization with it, so this replica only
 * checks that token locally (the `jwt` check, internal audience) and never touches Redis.
 */
export function phantomStrategy(ctx: StrategyContext): Strategy {
  return {
    mode: 'phantom',
    challenge: 'Bearer',
    ready: ctx.hasKeys,
    async authenticate(request) {
      const claims = await ctx.verifyInternalToken(request)
      return { userId: claims.sub, loginId: claims.sid, roles: claims.roles }
    },
  }
}
