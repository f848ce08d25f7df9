// phantom with its gateway cache off (PHANTOM_CACHE_TTL_MS=0): every request is exchanged at auth,
// so nginx and auth pay per request what the default cache spreads over a second. Measured at the
// sweep's last replica count, with auth restarted for it and restarted back afterwards.
import { requestPool } from '../credentials.ts'
import { measureWindow, type TierCost } from '../measure.ts'
import { CLUSTER_ENV, CONNECTIONS } from '../profiles.ts'
import type { Results } from '../results.ts'
import { median } from '../stats.ts'
import type { BenchContext } from './context.ts'

export function phantomUncachedApplies(ctx: BenchContext): boolean | string {
  return (
    ctx.cluster !== undefined ||
    'phantom at PHANTOM_CACHE_TTL_MS=0: needs the native cluster (auth is restarted for it)'
  )
}

/** Restarts auth with `env` over the cluster's, then waits until an exchange cached before has expired. */
async function restartAuth(ctx: BenchContext, env: Record<string, string>): Promise<void> {
  const cluster = ctx.cluster!
  await cluster.auth.stop()
  await cluster.auth.start({ env })
  await cluster.waitUntilReady()
  // An exchange cached under the previous setting lives at most PHANTOM_CACHE_TTL_MS.
  await new Promise((r) => setTimeout(r, Number(CLUSTER_ENV.PHANTOM_CACHE_TTL_MS) + 100))
}

export async function measurePhantomUncached(ctx: BenchContext): Promise<Pick<Results, 'phantomUncached'>> {
  const cluster = ctx.cluster!
  const pool = ctx.pools.get('warm')!
  const requests = requestPool('phantom', pool)
  const active = [...cluster.replicas.values()].flatMap((l) =>
    l.slice(0, cluster.activeReplicas).map((p) => p.replica),
  )
  ctx.log('phantom with PHANTOM_CACHE_TTL_MS=0: auth restarted for it')
  await restartAuth(ctx, { PHANTOM_CACHE_TTL_MS: '0' })
  const costs: TierCost[] = []
  const rps: number[] = []
  try {
    for (let i = 0; i < ctx.profile.repetitions; i++) {
      await ctx.generator.saturate(ctx.base, requests, {
        connections: CONNECTIONS,
        durationS: ctx.profile.warmupS,
      })
      const { result, cost } = await measureWindow(
        cluster,
        ctx.redisNodes,
        ctx.backgroundCallsPerS,
        active,
        () =>
          ctx.generator.saturate(ctx.base, requests, {
            connections: CONNECTIONS,
            durationS: ctx.profile.windowS,
          }),
      )
      if (cost) costs.push(cost)
      rps.push(result.rps)
    }
  } finally {
    await restartAuth(ctx, {})
  }
  const of = (k: keyof TierCost) => median(costs.map((c) => c[k]))
  return {
    phantomUncached: {
      replicas: cluster.activeReplicas,
      rps: median(rps),
      replicaCpuUsPerRequest: of('replicaCpuUsPerRequest'),
      nginxCpuUsPerRequest: of('nginxCpuUsPerRequest'),
      authCpuUsPerRequest: of('authCpuUsPerRequest'),
      redisCpuUsPerRequest: of('redisCpuUsPerRequest'),
      redisCommandsPerRequest: of('redisCommandsPerRequest'),
    },
  }
}
