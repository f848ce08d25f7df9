// The capacity model: how many requests per second a deployment serves in each mode, from the
// calibration's marginal costs (capacity-results.ts). The bench checks it against measured runs;
// the planner (plan.ts) sizes a deployment with it.
import type { Calibration } from './capacity-results.ts'

export const REPLICA_COUNTS = [1, 2, 4, 8, 16, 32, 64] as const

export const CAPACITY_ASSUMPTIONS = [
  "costs per request are the calibration's: each tier held to a CPU quota until it saturates, its idle CPU taken off",
  'a tier serves (cores × 1 s − its idle CPU) ÷ its cost per request; the tightest tier sets the throughput',
  'Redis runs commands on one thread: one core per primary; a Redis Cluster spreads keys evenly over its primaries',
  'auth is one process (one core) for what it does per request: every introspect, every phantom cache miss',
  'nginx and the load generator are left out: they scale out on cores of their own',
]

export type Bottleneck = 'replicas' | 'redis' | 'auth'

/** The CPU a deployment gives each tier. */
export interface Deployment {
  /** replica processes (every service's), and the cores they share */
  replicaProcesses: number
  replicaCores: number
  /** Redis primaries (1 unless a Redis Cluster) and the share of a core each may use */
  redisPrimaries: number
  redisCoresEach: number
  topology: 'standalone' | 'cluster'
  authCores: number
}

/** Redis CPU per command and idle CPU per node, for the topology planned. */
export function redisCosts(cal: Calibration, topology: Deployment['topology']) {
  const mode = Object.values(cal.modes).find((m) => m.redisCommandsPerRequest >= 0.5)
  const standalone = {
    usPerCommand: cal.redis?.usPerCommand ?? mode?.redisUsPerCommand ?? 0,
    idleUsPerS: cal.idle.redisUsPerS,
  }
  if (topology === 'standalone' || !cal.redisCluster) return standalone
  return { usPerCommand: cal.redisCluster.usPerCommand, idleUsPerS: cal.redisCluster.idleUsPerSPerNode }
}

/** Modes whose every request costs auth CPU (phantom's share is its cache misses). */
const AUTH_BOUND = new Set(['introspect', 'phantom'])

/** The throughput a deployment serves in `mode`, and which tier stops it. */
export function maxRps(
  cal: Calibration,
  mode: string,
  d: Deployment,
): { rps: number; limitedBy: Bottleneck } {
  const m = cal.modes[mode]
  if (!m) throw new Error(`the calibration has no ${mode}`)
  const limits: [number, Bottleneck][] = [
    [
      (d.replicaCores * 1e6 - d.replicaProcesses * cal.idle.replicaUsPerS) /
        Math.max(m.replicaUsPerRequest, 1e-9),
      'replicas',
    ],
  ]
  const redisUs = m.redisCommandsPerRequest * redisCosts(cal, d.topology).usPerCommand
  if (m.redisCommandsPerRequest >= 0.05 && redisUs > 0) {
    const { idleUsPerS } = redisCosts(cal, d.topology)
    limits.push([(d.redisPrimaries * (d.redisCoresEach * 1e6 - idleUsPerS)) / redisUs, 'redis'])
  }
  if (AUTH_BOUND.has(mode) && m.authUsPerRequest > 0)
    limits.push([(d.authCores * 1e6 - cal.idle.authUsPerS) / m.authUsPerRequest, 'auth'])
  const [rps, limitedBy] = limits.reduce((a, b) => (b[0] < a[0] ? b : a))
  return { rps: Math.max(0, rps), limitedBy }
}

export interface Prediction {
  predictedMaxRps: Record<string, number>
  limitedBy: Record<string, Bottleneck>
}

/** Max throughput per replica count, each replica on a core of its own, one standalone Redis. */
export function predict(cal: Calibration, mode: string, services: number): Prediction {
  const predictedMaxRps: Record<string, number> = {}
  const limitedBy: Record<string, Bottleneck> = {}
  for (const r of REPLICA_COUNTS) {
    const n = r * services
    const at = maxRps(cal, mode, {
      replicaProcesses: n,
      replicaCores: n,
      redisPrimaries: 1,
      redisCoresEach: 1,
      topology: 'standalone',
      authCores: 1,
    })
    predictedMaxRps[String(r)] = Math.round(at.rps)
    limitedBy[String(r)] = at.limitedBy
  }
  return { predictedMaxRps, limitedBy }
}
