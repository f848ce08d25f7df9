// The Redis primary killed under load in each topology (standalone, sentinel, cluster), each in
// its own cluster: what `pnpm failover` runs alone.
import { measureTopologies } from '../failover.ts'
import type { Results } from '../results.ts'
import { type BenchContext, stopMainCluster } from './context.ts'

export function failoverApplies(ctx: BenchContext): boolean | string {
  if (!(ctx.opts.failover ?? ctx.profile.failover)) return false
  if (ctx.opts.gateway || ctx.redisMode !== 'standalone')
    return 'the failover phase (it starts its own clusters; not with --gateway or --redis)'
  return true
}

export async function killPrimaries(ctx: BenchContext): Promise<Pick<Results, 'topologies'>> {
  // Its own clusters, one at a time: the main one stops first.
  await stopMainCluster(ctx)
  const topologies = await measureTopologies({
    topologies: ['standalone', 'sentinel', 'cluster'],
    quick: ctx.profile.quickFailover,
    log: ctx.log,
  })
  return { topologies }
}
