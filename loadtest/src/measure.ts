import type { Cluster } from '@authlab/cluster'
import type { Redis } from 'ioredis'

export interface RedisStats {
  calls: number
  cpuS: number
}

/**
 * Total command calls and CPU seconds of Redis, from INFO (works for any Redis we can reach). Given
 * every node of a Sentinel set or a cluster: CPU of all of them (replication costs CPU too), and the
 * commands clients sent, which only primaries count (a replica's count is what it was replicated).
 */
export async function redisStats(redis: Redis | readonly Redis[]): Promise<RedisStats> {
  let calls = 0
  let cpuS = 0
  for (const node of Array.isArray(redis) ? redis : [redis as Redis]) {
    const info = await node.info('all')
    const primary = !/^role:slave/m.test(info)
    for (const line of info.split('\r\n')) {
      const cmd = /^cmdstat_([a-z|]+):calls=(\d+)/.exec(line)
      if (primary && cmd && cmd[1] !== 'info') calls += Number(cmd[2])
      const cpu = /^used_cpu_(sys|user):([\d.]+)/.exec(line)
      if (cpu) cpuS += Number(cpu[2])
    }
  }
  return { calls, cpuS }
}

export interface TierCost {
  replicaCpuUsPerRequest: number
  nginxCpuUsPerRequest: number
  authCpuUsPerRequest: number
  redisCpuUsPerRequest: number
  redisCommandsPerRequest: number
}

/**
 * CPU time of every tier and Redis command counts around a measured window, divided by the
 * requests served. `background` (commands/s when idle: heartbeats of jwt-pushed, rate limiter
 * expiries) is subtracted so a mode is charged only for what its requests cause.
 */
export async function measureWindow<T extends { ok: number }>(
  cluster: Cluster | undefined,
  redis: Redis | readonly Redis[] | undefined,
  backgroundCallsPerS: number,
  activeReplicas: string[],
  window: () => Promise<T>,
): Promise<{ result: T; cost: TierCost | undefined }> {
  const cpuBefore = cluster ? await cluster.cpuTimes() : undefined
  const redisBefore = redis ? await redisStats(redis) : undefined
  const started = Date.now()
  const result = await window()
  const elapsedS = (Date.now() - started) / 1000
  const cpuAfter = cluster ? await cluster.cpuTimes() : undefined
  const redisAfter = redis ? await redisStats(redis) : undefined
  if (result.ok === 0 || (!cluster && !redis)) return { result, cost: undefined }
  // A tier whose processes we cannot see (an external gateway) is NaN: not measured, not free.
  const perRequestUs = (ms: number) => (cluster ? (ms * 1000) / result.ok : Number.NaN)
  const delta = (name: string) => (cpuAfter && cpuBefore ? (cpuAfter[name] ?? 0) - (cpuBefore[name] ?? 0) : 0)
  const redisCalls =
    redisAfter && redisBefore ? redisAfter.calls - redisBefore.calls - backgroundCallsPerS * elapsedS : 0
  return {
    result,
    cost: {
      replicaCpuUsPerRequest: perRequestUs(activeReplicas.reduce((sum, r) => sum + delta(r), 0)),
      nginxCpuUsPerRequest: perRequestUs(delta('nginx')),
      authCpuUsPerRequest: perRequestUs(delta('auth')),
      redisCpuUsPerRequest:
        redisAfter && redisBefore ? ((redisAfter.cpuS - redisBefore.cpuS) * 1e6) / result.ok : Number.NaN,
      redisCommandsPerRequest: redis ? Math.max(0, redisCalls / result.ok) : Number.NaN,
    },
  }
}
