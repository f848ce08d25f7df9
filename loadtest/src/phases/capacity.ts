// The capacity model: each mode's predicted ceiling from the largest warm run's costs, and where
// the profile asks for it, one prediction checked by making Redis the bottleneck on purpose.
import type { Cluster } from '@authlab/cluster'
import type { Redis } from 'ioredis'
import { MODES } from '../../lib/scenarios.js'
import { CAPACITY_ASSUMPTIONS, predict } from '../capacity.ts'
import { type Mode, requestPool } from '../credentials.ts'
import type { PooledRequest } from '../load.ts'
import { limitRedisCpu } from '../machine.ts'
import { measureWindow } from '../measure.ts'
import { CONNECTIONS } from '../profiles.ts'
import type { Results, Run } from '../results.ts'
import type { BenchContext, Pool } from './context.ts'
import { freshPool } from './credentials.ts'

type Validation = NonNullable<Results['capacityModel']['validation']>

/** The model's input: the warm run at the largest replica count. */
function headRun(ctx: BenchContext): Run | undefined {
  return (ctx.results.runs ?? [])
    .filter((r) => r.tokenProfile === 'warm')
    .sort((a, b) => b.replicas - a.replicas)[0]
}

/** It needs the cluster and a warm run (against a gateway it is skipped with the rest, silently). */
export function capacityApplies(ctx: BenchContext): boolean | string {
  if (ctx.cluster && headRun(ctx)) return true
  return ctx.opts.gateway ? false : 'capacity model (no warm run)'
}

/** One saturating window at the head run's replica count, Redis under its quota. */
async function underQuota(
  ctx: BenchContext,
  cluster: Cluster,
  redis: Redis,
  replicas: number,
  requests: PooledRequest[],
) {
  await ctx.generator.saturate(cluster.url, requests, { connections: CONNECTIONS, durationS: 1 })
  const active = [...cluster.replicas.values()].flatMap((l) => l.slice(0, replicas).map((p) => p.replica))
  return measureWindow(cluster, redis, ctx.backgroundCallsPerS, active, () =>
    ctx.generator.saturate(cluster.url, requests, {
      connections: CONNECTIONS,
      durationS: Math.max(2, ctx.profile.windowS),
    }),
  )
}

/**
 * Makes Redis the bottleneck on purpose (a CPU quota on its process) for `session`, the mode with
 * one Redis command per request, predicts the throughput from the measured Redis CPU per request,
 * and measures it.
 */
async function validateCapacity(
  ctx: BenchContext,
  cluster: Cluster,
  redis: Redis,
  head: Run,
  pool: Pool,
): Promise<Validation> {
  const mode: Mode = 'session'
  const cost = head.modes[mode]!
  const fraction = Math.min(0.5, Math.max(0.01, (0.3 * cost.rps * cost.redisCpuUsPerRequest) / 1e6))
  const predictedRps = (fraction * 1e6) / cost.redisCpuUsPerRequest
  const release = limitRedisCpu(cluster.redis.pid(), fraction)
  if (typeof release === 'string') return { mode, skipped: release }
  ctx.log(
    `capacity check: Redis held to ${fraction.toFixed(3)} of a core, predicted ${Math.round(predictedRps)} req/s for ${mode}`,
  )
  try {
    const { result, cost: under } = await underQuota(
      ctx,
      cluster,
      redis,
      head.replicas,
      requestPool(mode, pool),
    )
    // Redis's own CPU per request in this window says why the prediction missed, if it did: the
    // model's input comes from other windows (the core's speed changes between them), and a Redis
    // held to its quota serves bursts after each throttled stretch.
    const redisUs = under?.redisCpuUsPerRequest ?? Number.NaN
    const quotaUsed = (result.rps * redisUs) / 1e6 / fraction
    ctx.log(
      `  measured ${Math.round(result.rps)} req/s (${result.non2xx} non-2xx, ${result.errors} errors); Redis ${redisUs.toFixed(1)} µs per request (model: ${cost.redisCpuUsPerRequest.toFixed(1)}), ${(100 * quotaUsed).toFixed(0)} % of its quota used`,
    )
    return {
      mode,
      replicas: head.replicas,
      redisCpuQuota: fraction,
      predictedRps,
      measuredRps: result.rps,
      unconstrainedRps: cost.rps,
      ...(Number.isFinite(redisUs)
        ? { redisCpuUsPerRequest: redisUs, modelRedisCpuUsPerRequest: cost.redisCpuUsPerRequest, quotaUsed }
        : {}),
    }
  } finally {
    release()
  }
}

/** Runs before the faults: the data-loss scenario deletes the sessions the check runs on. */
export async function checkCapacity(ctx: BenchContext): Promise<Pick<Results, 'capacityModel'>> {
  const head = headRun(ctx)!
  const capacityModel: Results['capacityModel'] = { modes: {} }
  for (const mode of MODES) capacityModel.modes[mode] = predict(mode, head.modes[mode]!)
  capacityModel.assumptions = CAPACITY_ASSUMPTIONS
  if (ctx.profile.capacityValidation && ctx.redis) {
    const pool = await freshPool(ctx, 'warm')
    capacityModel.validation = await validateCapacity(ctx, ctx.cluster!, ctx.redis, head, pool)
  }
  return { capacityModel }
}
