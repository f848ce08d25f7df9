// What each access-token lifetime costs in refreshes (loadtest/src/token-lifetime.ts): real
// rotations through the gateway at each lifetime's own rate, on logins of their own, so the other
// phases' credentials are untouched. The cluster's ACCESS_TOKEN_TTL_S stays as it is.
import type { Results } from '../results.ts'
import { measureTokenLifetime } from '../token-lifetime.ts'
import type { BenchContext } from './context.ts'

export function tokenLifetimeApplies(ctx: BenchContext): boolean | string {
  if (ctx.profile.tokenLifetime.ttlsS.length === 0) return 'token lifetime: the profile sweeps no lifetimes'
  return (
    ctx.cluster !== undefined ||
    "token lifetime: the refresh cost is read from the native cluster's auth, Postgres and Redis processes and Postgres's statistics; not measured against --gateway"
  )
}

export async function measureTokenLifetimeCosts(ctx: BenchContext): Promise<Pick<Results, 'tokenLifetime'>> {
  const cluster = ctx.cluster
  if (!cluster) return {}
  const { ttlsS, activeUsers, windowS, minRefreshes, logins } = ctx.profile.tokenLifetime
  return {
    tokenLifetime: await measureTokenLifetime({
      base: ctx.base,
      cluster,
      ttlsS,
      activeUsers,
      windowS,
      minRefreshes,
      logins,
      run: ctx.runId,
      log: ctx.log,
    }),
  }
}
