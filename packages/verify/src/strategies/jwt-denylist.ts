import { RevocationsNotReadyError, tokenFacts } from '@authlab/revocation'
import { UnauthorizedError, unavailable } from '../errors.ts'
import type { RedisStrategyContext, Strategy } from '../types.ts'

/** Signature locally, then one MGET for the jti, the login, the user's cut-off and the marker. */
export function jwtDenylistStrategy(ctx: RedisStrategyContext): Strategy {
  const failOpen = ctx.options.denylistFailOpen === true
  return {
    mode: 'jwt-denylist',
    challenge: 'Bearer',
    ready: () => ctx.hasKeys() && ctx.reader.ready,
    async authenticate(request) {
      const claims = await ctx.verifyAccessToken(request)
      let revoked: boolean
      try {
        revoked = await ctx.reader.isRevoked(tokenFacts(claims))
      } catch (err) {
        // Fail-open covers an unreachable Redis only: a reachable Redis whose copies are not
        // known complete (restart, data loss) is never read as "nothing revoked".
        if (err instanceof RevocationsNotReadyError || !failOpen) throw unavailable(err, 'denylist')
        const mapped = unavailable(err, 'denylist')
        if (mapped === err) throw err
        request.log.warn('denylist unreachable: failing open as configured (DENYLIST_FAIL_OPEN)')
        return { userId: claims.sub, loginId: claims.sid, roles: claims.roles, degraded: true }
      }
      if (revoked) throw new UnauthorizedError('token revoked')
      return { userId: claims.sub, loginId: claims.sid, roles: claims.roles }
    },
  }
}
