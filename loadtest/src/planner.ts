// The planner: what a workload needs in each mode, from one published run's calibration (the
// capacity model's marginal costs), storage, credential sizes and refresh costs. Every figure is
// a measured cost times the workload; each column names the assumption it adds.

import { redisCosts } from './capacity.ts'
import type { Calibration } from './capacity-results.ts'
import type { Results } from './results.ts'

export interface Workload {
  /** requests per second reaching the downstream services */
  rps: number
  activeUsers: number
  loginsPerS: number
  revocationsPerS: number
  /** access-token lifetime (ACCESS_TOKEN_TTL_S) */
  ttlS: number
  /** cores each replica gets */
  coresPerReplica: number
  /** the share of a core each tier is planned to use at this load (0.6: 40 % headroom) */
  utilization: number
}

/**
 * The docs' workloads: each active user logs in once a day and logs out as often, access tokens live
 * auth's default 300 s, a replica has a core, every tier planned at 60 % of its cores.
 */
export const LOGIN_EVERY_S = 86_400

export function standardWorkload(rps: number, activeUsers: number): Workload {
  return {
    rps,
    activeUsers,
    loginsPerS: activeUsers / LOGIN_EVERY_S,
    revocationsPerS: activeUsers / LOGIN_EVERY_S,
    ttlS: 300,
    coresPerReplica: 1,
    utilization: 0.6,
  }
}

export interface ModePlan {
  mode: string
  replicaCores: number
  replicas: number
  nginxCores: number
  redisCores: number
  redisShards: number
  redisMemoryBytes: number
  pubSubMessagesPerS: number
  authCores: number
  postgresCores: number
  refreshesPerS: number
  /** Postgres write transactions (a WAL flush each) from refreshes */
  postgresWritesPerS: number
  /** gateway bandwidth in and out (bits per second); NaN when the run did not measure sizes */
  gatewayBitsPerS: { in: number; out: number }
  /** the first part that one more replica does not help: where it saturates, in req/s */
  firstBottleneck: { part: string; atRps: number }
}

/** Modes that read the session record per request (and so keep one per active user in Redis). */
const SESSION_READERS = new Set(['session', 'session-cached', 'introspect', 'phantom'])
/** Modes whose clients refresh access tokens (a JWT travels); the others present a session id. */
const REFRESHING = new Set(['jwt', 'jwt-denylist', 'jwt-pushed', 'introspect'])
/** Modes that keep revocation entries until the token they revoke would have expired. */
const REVOCATION_KEEPERS = new Set(['jwt-denylist', 'jwt-pushed'])

export const PLAN_ASSUMPTIONS: Record<string, string> = {
  cores:
    "every cores column is the CPU the load needs ÷ utilization (the headroom asked for): replicas from the calibration's µs per request plus each replica's idle CPU",
  redis:
    "Redis cores = commands/s × µs per command + what logins cost it; past one primary's core, each command at a Redis Cluster primary's measured cost; one core per primary, so primaries = cores rounded up",
  memory:
    'Redis memory: one live session per active user (modes that read it), one revocation entry per revocation kept for a token lifetime (denylist, pushed); bytes per entry from the storage phase',
  pubsub: 'pub/sub: jwt-pushed delivers every revocation to every replica',
  auth: "auth cores: logins (argon2) + refreshes + introspect's and phantom's per-request checks",
  postgres:
    'Postgres cores: logins and refreshes, at the CPU each cost in the run; writes/s: a write transaction (one WAL flush) per refresh as measured, logins not counted',
  refresh:
    'refreshes/s = active users ÷ access-token lifetime (each active user refreshes once per lifetime)',
  gateway: 'gateway bandwidth: req/s × bytes in and out per request as the gateway logged them',
}

type Costs = { authUs: number; postgresUs: number; redisUs: number; writes: number }

/** What one refresh costs, where the run measured it (the token-lifetime phase). */
export function refreshCost(r: Results): Costs | undefined {
  const t = r.tokenLifetime
  if (!t?.perRefresh) return undefined
  const point = t.points.find((p) => p.ttlS === t.perRefresh!.fromTtlS)
  const { authUs, postgresUs, redisUs } = t.perRefresh
  return { authUs, postgresUs, redisUs, writes: point?.postgresPerRefresh.commits ?? Number.NaN }
}

/** Bytes in and out per request at the gateway, where the run measured them (the size phase). */
export function wireBytes(r: Results, mode: string): { in: number; out: number } | undefined {
  const w = r.size?.wire.find((row) => row.mode === mode)
  return w ? { in: w.requestBytes, out: w.responseBytes } : undefined
}

const largest = <T extends { count: number }>(rows: readonly T[] | undefined) =>
  rows?.length ? rows.reduce((a, b) => (b.count > a.count ? b : a)) : undefined

function redisPlan(cal: Calibration, mode: string, w: Workload) {
  const m = cal.modes[mode]!
  const commandsPerS = w.rps * m.redisCommandsPerRequest
  const loginUs = w.loginsPerS * (cal.login?.redisUs ?? 0)
  const single = redisCosts(cal, 'standalone')
  const standaloneCores = (commandsPerS * single.usPerCommand + loginUs) / 1e6
  if (standaloneCores / w.utilization <= 1) return { cores: standaloneCores, shards: 1 }
  const cluster = redisCosts(cal, 'cluster')
  const cores = (commandsPerS * cluster.usPerCommand + loginUs) / 1e6
  return { cores, shards: Math.ceil(cores / w.utilization) }
}

function memoryBytes(r: Results, mode: string, w: Workload): number {
  const session = largest(r.storage?.sessions)?.bytesPerEntry ?? Number.NaN
  const revocation = largest(r.storage?.revocations)?.bytesPerEntry ?? Number.NaN
  let bytes = 0
  if (SESSION_READERS.has(mode)) bytes += w.activeUsers * session
  if (REVOCATION_KEEPERS.has(mode)) bytes += w.revocationsPerS * w.ttlS * revocation
  return bytes
}

/** Where the first part that does not scale out with replicas saturates (req/s). */
function firstBottleneck(cal: Calibration, mode: string): ModePlan['firstBottleneck'] {
  const m = cal.modes[mode]!
  const parts: [string, number][] = [['replicas (scale out)', Number.POSITIVE_INFINITY]]
  const redisUs = m.redisCommandsPerRequest * redisCosts(cal, 'standalone').usPerCommand
  if (m.redisCommandsPerRequest >= 0.05 && redisUs > 0)
    parts.push(['one Redis primary (then a Redis Cluster)', (1e6 - cal.idle.redisUsPerS) / redisUs])
  if ((mode === 'introspect' || mode === 'phantom') && m.authUsPerRequest > 0)
    parts.push([
      'one auth process (then more auth replicas)',
      (1e6 - cal.idle.authUsPerS) / m.authUsPerRequest,
    ])
  const [part, atRps] = parts.reduce((a, b) => (b[1] < a[1] ? b : a))
  return { part, atRps }
}

/** Replicas for `demandCores` at the planned utilization, each also spending its idle CPU. */
function replicasFor(cal: Calibration, demandCores: number, w: Workload) {
  const idleCores = cal.idle.replicaUsPerS / 1e6
  const replicas = Math.max(1, Math.ceil(demandCores / w.utilization / (w.coresPerReplica - idleCores)))
  return { replicas, cores: demandCores / w.utilization + replicas * idleCores }
}

export function planMode(r: Results, mode: string, w: Workload): ModePlan {
  const cal = r.capacityModel.calibration!
  const m = cal.modes[mode]!
  const { replicas, cores } = replicasFor(cal, (w.rps * m.replicaUsPerRequest) / 1e6, w)
  const refreshesPerS = REFRESHING.has(mode) ? w.activeUsers / w.ttlS : 0
  const refresh = refreshCost(r) ?? {
    authUs: Number.NaN,
    postgresUs: Number.NaN,
    redisUs: Number.NaN,
    writes: Number.NaN,
  }
  const perRefresh = refreshesPerS > 0 ? refresh : { authUs: 0, postgresUs: 0, redisUs: 0, writes: 0 }
  const login = cal.login ?? { authUs: Number.NaN, postgresUs: Number.NaN }
  const checksUs = mode === 'introspect' || mode === 'phantom' ? w.rps * m.authUsPerRequest : 0
  const redis = redisPlan(cal, mode, w)
  const bytes = wireBytes(r, mode) ?? { in: Number.NaN, out: Number.NaN }
  const planned = (us: number) => us / 1e6 / w.utilization
  return {
    mode,
    replicaCores: cores,
    replicas,
    nginxCores: planned(w.rps * m.nginxUsPerRequest),
    redisCores: redis.cores / w.utilization,
    redisShards: redis.shards,
    redisMemoryBytes: memoryBytes(r, mode, w),
    pubSubMessagesPerS: mode === 'jwt-pushed' ? w.revocationsPerS * replicas : 0,
    authCores: planned(w.loginsPerS * login.authUs + refreshesPerS * perRefresh.authUs + checksUs),
    postgresCores: planned(w.loginsPerS * login.postgresUs + refreshesPerS * perRefresh.postgresUs),
    refreshesPerS,
    postgresWritesPerS: refreshesPerS * perRefresh.writes,
    gatewayBitsPerS: { in: w.rps * bytes.in * 8, out: w.rps * bytes.out * 8 },
    firstBottleneck: firstBottleneck(cal, mode),
  }
}

/** Every mode the run calibrated, planned for `w`; throws when the run has no calibration. */
export function plan(r: Results, w: Workload): ModePlan[] {
  const cal = r.capacityModel.calibration
  if (!cal) throw new Error('this results.json has no capacity calibration (a run from before the planner)')
  return Object.keys(cal.modes).map((mode) => planMode(r, mode, w))
}
