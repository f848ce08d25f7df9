import type { Strategy, StrategyContext } from '../types.ts'

/** Stateless: signature and claims only. A revoked token keeps working until its `exp`. */
export function jwtStrategy(ctx: StrategyContext): Strategy {
  return {
    mode: 'jwt',
    challenge: 'Bearer',
    ready: ctx.hasKeys,
    async authenticate(request) {
      const claims = await ctx.verifyAccessToken(request)
      return { userId: claims.sub, loginId: claims.sid, roles: claims.roles }
    },
  }
}
