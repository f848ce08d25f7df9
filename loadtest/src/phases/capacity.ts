// The capacity model: each mode's marginal cost per request measured with its replicas held to a
// CPU quota (so they saturate as a replica on a core of its own does, not as processes sharing the
// bench's cores do), the idle CPU of every tier, what a login costs; then the model's predictions
// checked against runs where the replicas, or Redis, are the bottleneck on purpose.
import type { Cluster } from '@authlab/cluster'
import { LOGIN_PASSWORD, MODES, userEmail } from '../../lib/scenarios.js'
import { CAPACITY_ASSUMPTIONS, type Deployment, maxRps, predict } from '../capacity.ts'
import type { Calibration, ModeCalibration, ModelCheck } from '../capacity-results.ts'
import { login, type Mode, requestPool } from '../credentials.ts'
import { limitCpus } from '../machine.ts'
import { type Idle, idleWindow, marginalCosts, rawWindow } from '../model-window.ts'
import { CONNECTIONS } from '../profiles.ts'
import type { Results } from '../results.ts'
import { median } from '../stats.ts'
import type { BenchContext } from './context.ts'
import { freshPool } from './credentials.ts'

/** Each calibration replica's share of a core: all of them together well under the servers' core. */
const CALIBRATION_QUOTA = 0.1
/** The replicas check: twice the calibration's quota, in a mode that asks nothing of Redis. */
const REPLICAS_CHECK_MODE: Mode = 'jwt'
const REPLICAS_CHECK_QUOTA = 2 * CALIBRATION_QUOTA
/** Redis is held to serve this share of what the replicas alone would, so it is the bottleneck. */
const REDIS_SHARE = 0.4

export function capacityApplies(ctx: BenchContext): boolean | string {
  // Against a gateway or another topology, start.ts has said why it is skipped.
  return ctx.cluster !== undefined && ctx.redisMode === 'standalone'
}

const replicaNames = (cluster: Cluster, perService: number) =>
  [...cluster.replicas.values()].flatMap((l) => l.slice(0, perService).map((p) => p.replica))
const replicaPids = (cluster: Cluster, perService: number) =>
  [...cluster.replicas.values()].flatMap((l) => l.slice(0, perService).map((p) => p.pid()))

/** One saturating window with `limit` held (a release, or why it could not), after a warm-up. */
async function saturated(ctx: BenchContext, mode: Mode, limit: () => (() => void) | string) {
  const cluster = ctx.cluster!
  const requests = requestPool(mode, await freshPool(ctx, 'warm'))
  const release = limit()
  if (typeof release === 'string') throw new Error(`capacity model: ${release}`)
  try {
    const load = (durationS: number) =>
      ctx.generator.saturate(cluster.url, requests, { connections: CONNECTIONS, durationS })
    await load(0.5)
    // Many of the quota's 100 ms periods, so a window is not one burst (where it is checked).
    const seconds = ctx.profile.capacityValidation ? Math.max(2, ctx.profile.windowS) : ctx.profile.windowS
    return await rawWindow(cluster, ctx.redisNodes, () => load(seconds))
  } finally {
    release()
  }
}

async function postLogin(base: string, email: string): Promise<void> {
  const res = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: LOGIN_PASSWORD }),
  })
  if (res.status !== 200) throw new Error(`capacity model: login ${res.status}`)
  await res.arrayBuffer()
}

/** What one login costs every tier (argon2 dominates auth's share). */
async function loginCost(ctx: BenchContext): Promise<Calibration['login']> {
  const logins = 8
  const emails = Array.from({ length: logins }, (_, i) => userEmail(`${ctx.runId}-model`, i))
  // Registered (and logged in once) outside the window: it measures logins alone.
  for (const email of emails) await login(ctx.base, email)
  const w = await rawWindow(ctx.cluster!, ctx.redisNodes, async () => {
    for (const email of emails) await postLogin(ctx.base, email)
    return { ok: logins }
  })
  return {
    logins,
    authUs: (w.cpuUs.auth ?? 0) / logins,
    postgresUs: (w.cpuUs.postgres ?? 0) / logins,
    redisUs: w.redisCpuUs / logins,
  }
}

/** Each field's median over the repetitions: drift between windows cancels out of it. */
function medianOf(samples: readonly ModeCalibration[]): ModeCalibration {
  const of = (k: keyof ModeCalibration) => median(samples.map((c) => c[k]))
  return {
    rps: of('rps'),
    replicaUsPerRequest: of('replicaUsPerRequest'),
    nginxUsPerRequest: of('nginxUsPerRequest'),
    authUsPerRequest: of('authUsPerRequest'),
    redisCommandsPerRequest: of('redisCommandsPerRequest'),
    redisUsPerCommand: of('redisUsPerCommand'),
  }
}

/** One window per mode, one replica per service each held to the calibration quota. */
async function calibrationRound(ctx: BenchContext, idle: Idle, samples: Map<Mode, ModeCalibration[]>) {
  const cluster = ctx.cluster!
  await cluster.setActiveReplicas(1)
  const names = replicaNames(cluster, 1)
  for (const mode of MODES as readonly Mode[]) {
    const w = await saturated(ctx, mode, () => limitCpus(replicaPids(cluster, 1), CALIBRATION_QUOTA))
    samples.set(mode, [...(samples.get(mode) ?? []), marginalCosts(w, idle, names, ctx.redisNodes.length)])
  }
}

function calibrationOf(idle: Idle, samples: Map<Mode, ModeCalibration[]>): Calibration {
  const modes: Calibration['modes'] = {}
  for (const [mode, list] of samples) modes[mode] = medianOf(list)
  const { replicaUsPerS, redisUsPerS, authUsPerS } = idle
  return {
    replicas: 1,
    replicaQuota: CALIBRATION_QUOTA,
    idle: { replicaUsPerS, redisUsPerS, authUsPerS },
    modes,
  }
}

const deployment = (over: Partial<Deployment>): Deployment => ({
  replicaProcesses: 1,
  replicaCores: 1,
  redisPrimaries: 1,
  redisCoresEach: 1,
  topology: 'standalone',
  authCores: 1,
  ...over,
})

type Measured = { rps: number; quotaUsed: number }

/**
 * The replicas as the bottleneck: the calibration's replicas at twice its quota. (More replica
 * processes on the bench's one server core would each cost more per request, which says how the
 * bench's core is shared, not how replicas on cores of their own scale.)
 */
async function replicasWindow(ctx: BenchContext): Promise<Measured> {
  const cluster = ctx.cluster!
  await cluster.setActiveReplicas(1)
  const pids = replicaPids(cluster, 1)
  const w = await saturated(ctx, REPLICAS_CHECK_MODE, () => limitCpus(pids, REPLICAS_CHECK_QUOTA))
  const used = replicaNames(cluster, 1).reduce((s, r) => s + (w.cpuUs[r] ?? 0), 0)
  return { rps: w.ok / w.elapsedS, quotaUsed: used / (pids.length * REPLICAS_CHECK_QUOTA * 1e6 * w.elapsedS) }
}

/** Redis's quota to serve `share` of the unconstrained rate, at `usPerRequest` of Redis CPU. */
function redisFraction(
  ctx: BenchContext,
  cal: Calibration,
  perService: number,
  share: number,
  usPerRequest: number,
): number {
  const replicasAlone = maxRps(
    cal,
    'session',
    deployment({ replicaProcesses: 2, replicaCores: 2 * CALIBRATION_QUOTA }),
  )
  // The sweep's unconstrained rate at this count, where it ran: Redis is held well below it.
  const swept = ctx.results.runs?.find((r) => r.tokenProfile === 'warm' && r.replicas === perService)
  const unconstrained = swept?.modes.session?.rps ?? 2 * perService * replicasAlone.rps
  return Math.max(0.01, (share * unconstrained * usPerRequest + cal.idle.redisUsPerS) / 1e6)
}

/** `session` (a command per request) with Redis held to `fraction` of a core. */
async function redisWindow(ctx: BenchContext, idle: Idle, perService: number, fraction: number) {
  const cluster = ctx.cluster!
  await cluster.setActiveReplicas(perService)
  const w = await saturated(ctx, 'session', () => limitCpus([cluster.redis.pid()], fraction))
  const measured = { rps: w.ok / w.elapsedS, quotaUsed: w.redisCpuUs / (fraction * 1e6 * w.elapsedS) }
  return { measured, usPerCommand: marginalCosts(w, idle, [], 1).redisUsPerCommand }
}

export function check(
  name: ModelCheck['name'],
  mode: string,
  replicas: number,
  limit: string,
  predictedRps: number,
  measured: readonly Measured[],
): ModelCheck {
  const measuredRps = median(measured.map((m) => m.rps))
  return {
    name,
    mode,
    topology: name === 'redis-cluster' ? 'cluster' : 'standalone',
    replicas,
    limit,
    predictedRps,
    measuredRps,
    ratio: measuredRps / Math.max(predictedRps, 1e-9),
    quotaUsed: median(measured.map((m) => m.quotaUsed)),
  }
}

type Windows = { replicas: Measured[]; redisUs: number[]; redis: Measured[]; fA?: number; fB?: number }

/** One round of the checks' windows: replicas doubled; Redis calibrated at one quota, checked at another. */
async function checkRound(ctx: BenchContext, idle: Idle, samples: Map<Mode, ModeCalibration[]>, w: Windows) {
  const perService = 2
  w.replicas.push(await replicasWindow(ctx))
  const light = calibrationOf(idle, samples)
  const session = light.modes.session!
  w.fA ??= redisFraction(
    ctx,
    light,
    perService,
    0.25,
    session.redisCommandsPerRequest * session.redisUsPerCommand,
  )
  const calibrating = await redisWindow(ctx, idle, perService, w.fA)
  w.redisUs.push(calibrating.usPerCommand)
  w.fB ??= redisFraction(
    ctx,
    light,
    perService,
    REDIS_SHARE,
    session.redisCommandsPerRequest * calibrating.usPerCommand,
  )
  w.redis.push((await redisWindow(ctx, idle, perService, w.fB)).measured)
}

/** The checks against the calibration, each predicted from it alone. */
function standaloneChecks(cal: Calibration, w: Windows): ModelCheck[] {
  const perService = 2
  const n = 2 * perService
  const replicas = maxRps(
    cal,
    REPLICAS_CHECK_MODE,
    deployment({ replicaProcesses: 2, replicaCores: 2 * REPLICAS_CHECK_QUOTA }),
  )
  const redis = maxRps(
    cal,
    'session',
    deployment({ replicaProcesses: n, replicaCores: n, redisCoresEach: w.fB! }),
  )
  const held = `each of 2 replicas held to ${REPLICAS_CHECK_QUOTA} of a core`
  return [
    check('replicas', REPLICAS_CHECK_MODE, 1, held, replicas.rps, w.replicas),
    check('redis', 'session', perService, `Redis held to ${w.fB!.toFixed(3)} of a core`, redis.rps, w.redis),
  ]
}

/** Calibration rounds, each followed by the checks' windows, so drift touches both alike. */
async function measureModel(ctx: BenchContext, idle: Idle) {
  const samples = new Map<Mode, ModeCalibration[]>()
  const windows: Windows = { replicas: [], redisUs: [], redis: [] }
  const checking =
    ctx.profile.capacityValidation &&
    Math.max(...[...ctx.cluster!.replicas.values()].map((l) => l.length)) >= 2
  for (let round = 0; round < ctx.profile.repetitions; round++) {
    await calibrationRound(ctx, idle, samples)
    if (checking) await checkRound(ctx, idle, samples, windows)
  }
  const redis = checking ? { redis: { usPerCommand: median(windows.redisUs), quota: windows.fA! } } : {}
  const cal = { ...calibrationOf(idle, samples), ...redis, login: await loginCost(ctx) }
  return { cal, checks: checking ? standaloneChecks(cal, windows) : [] }
}

/** Runs before the faults: the data-loss scenario deletes the sessions this runs on. */
export async function checkCapacity(ctx: BenchContext): Promise<Pick<Results, 'capacityModel'>> {
  const cluster = ctx.cluster!
  const before = cluster.activeReplicas
  ctx.log('capacity model: calibrating each mode with its replicas held to a CPU quota')
  const idle = await idleWindow(cluster, ctx.redisNodes, replicaNames(cluster, before), 3)
  try {
    const { cal, checks } = await measureModel(ctx, idle)
    const modes: Results['capacityModel']['modes'] = {}
    for (const mode of MODES) modes[mode] = predict(cal, mode, cluster.replicas.size)
    for (const c of checks)
      ctx.log(
        `  check ${c.name}: predicted ${c.predictedRps.toFixed(0)}, measured ${c.measuredRps.toFixed(0)} req/s (${c.ratio.toFixed(2)}×)`,
      )
    return { capacityModel: { modes, assumptions: CAPACITY_ASSUMPTIONS, calibration: cal, checks } }
  } finally {
    await cluster.setActiveReplicas(before)
  }
}
