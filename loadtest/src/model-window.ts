// The capacity model's measurements: raw CPU of every process and Redis counters around a window,
// idle or under load, from which the calibration takes marginal costs (idle CPU taken off).
import type { Cluster } from '@authlab/cluster'
import type { Redis } from 'ioredis'
import type { ModeCalibration } from './capacity-results.ts'
import { redisStats } from './measure.ts'

export interface RawWindow {
  ok: number
  elapsedS: number
  /** CPU µs per process name (cluster.cpuTimes' keys) */
  cpuUs: Record<string, number>
  redisCpuUs: number
  redisCalls: number
}

/** CPU and Redis counters around `window` (which answers the requests it got served). */
export async function rawWindow(
  cluster: Cluster,
  redis: readonly Redis[],
  window: () => Promise<{ ok: number }>,
): Promise<RawWindow> {
  const [cpu0, redis0] = [await cluster.cpuTimes(), await redisStats(redis)]
  const started = performance.now()
  const { ok } = await window()
  const elapsedS = (performance.now() - started) / 1000
  const [cpu1, redis1] = [await cluster.cpuTimes(), await redisStats(redis)]
  const cpuUs: Record<string, number> = {}
  for (const name of Object.keys(cpu1)) cpuUs[name] = ((cpu1[name] ?? 0) - (cpu0[name] ?? 0)) * 1000
  return {
    ok,
    elapsedS,
    cpuUs,
    redisCpuUs: (redis1.cpuS - redis0.cpuS) * 1e6,
    redisCalls: redis1.calls - redis0.calls,
  }
}

export interface Idle {
  replicaUsPerS: number
  redisUsPerS: number
  authUsPerS: number
  redisCallsPerS: number
}

/** CPU per second with no load: per replica process (of `replicas`), per Redis node, auth. */
export async function idleWindow(
  cluster: Cluster,
  redis: readonly Redis[],
  replicas: readonly string[],
  seconds: number,
): Promise<Idle> {
  const w = await rawWindow(cluster, redis, async () => {
    await new Promise((r) => setTimeout(r, seconds * 1000))
    return { ok: 0 }
  })
  const replicaUs = replicas.reduce((sum, r) => sum + (w.cpuUs[r] ?? 0), 0)
  return {
    replicaUsPerS: replicaUs / replicas.length / w.elapsedS,
    redisUsPerS: w.redisCpuUs / redis.length / w.elapsedS,
    authUsPerS: (w.cpuUs.auth ?? 0) / w.elapsedS,
    redisCallsPerS: w.redisCalls / w.elapsedS,
  }
}

/** A loaded window's marginal cost per request: each tier's CPU less what it spends idle. */
export function marginalCosts(
  w: RawWindow,
  idle: Idle,
  replicas: readonly string[],
  redisNodes: number,
): ModeCalibration {
  const perRequest = (us: number) => Math.max(0, us) / Math.max(w.ok, 1)
  const replicaUs = replicas.reduce((sum, r) => sum + (w.cpuUs[r] ?? 0), 0)
  const commands = Math.max(0, w.redisCalls - idle.redisCallsPerS * w.elapsedS)
  const redisUs = Math.max(0, w.redisCpuUs - idle.redisUsPerS * redisNodes * w.elapsedS)
  const redisCommandsPerRequest = commands / Math.max(w.ok, 1)
  return {
    rps: w.ok / w.elapsedS,
    replicaUsPerRequest: perRequest(replicaUs - idle.replicaUsPerS * replicas.length * w.elapsedS),
    nginxUsPerRequest: perRequest(w.cpuUs.nginx ?? 0),
    authUsPerRequest: perRequest((w.cpuUs.auth ?? 0) - idle.authUsPerS * w.elapsedS),
    redisCommandsPerRequest,
    redisUsPerCommand: redisCommandsPerRequest >= 0.05 ? redisUs / commands : 0,
  }
}
