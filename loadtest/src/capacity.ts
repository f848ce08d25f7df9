import type { TierCost } from './measure.ts'

export const REPLICA_COUNTS = [1, 2, 4, 8, 16, 32, 64] as const

export const CAPACITY_ASSUMPTIONS = [
  'each replica has a CPU core of its own, and the replica tier cost per request divides evenly over replicas',
  'Redis is single-threaded: at most one core of Redis CPU per second, whatever the replica count',
  'introspect also spends auth CPU per request; auth is one process (one core)',
  'nginx and the load generator scale out on their own cores and are left out of the prediction',
  'costs per request stay what they were at the measured replica count (no contention effects)',
]

export interface Prediction {
  predictedMaxRps: Record<string, number>
  limitedBy: Record<string, 'replicas' | 'redis' | 'auth'>
}

/** Max throughput per replica count: the tightest of replica, Redis and (introspect) auth capacity. */
export function predict(mode: string, cost: TierCost): Prediction {
  const predictedMaxRps: Record<string, number> = {}
  const limitedBy: Record<string, 'replicas' | 'redis' | 'auth'> = {}
  for (const r of REPLICA_COUNTS) {
    const limits: [number, 'replicas' | 'redis' | 'auth'][] = [
      [(r * 1e6) / Math.max(cost.replicaCpuUsPerRequest, 1e-9), 'replicas'],
    ]
    if (cost.redisCpuUsPerRequest > 0) limits.push([1e6 / cost.redisCpuUsPerRequest, 'redis'])
    if (mode === 'introspect' && cost.authCpuUsPerRequest > 0)
      limits.push([1e6 / cost.authCpuUsPerRequest, 'auth'])
    const [rps, by] = limits.reduce((a, b) => (b[0] < a[0] ? b : a))
    predictedMaxRps[String(r)] = Math.round(rps)
    limitedBy[String(r)] = by
  }
  return { predictedMaxRps, limitedBy }
}
