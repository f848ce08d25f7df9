// The capacity model on a Redis Cluster: a cluster of its own (3 primaries with a replica each),
// Redis's cost per command measured on its primaries, then `session` run with every primary held
// to a quota, against the prediction that the primaries share the keys evenly.
import { type Cluster, startCluster } from '@authlab/cluster'
import { Redis } from 'ioredis'
import { userEmail } from '../../lib/scenarios.js'
import { maxRps } from '../capacity.ts'
import type { ModeCalibration, ModelCheck } from '../capacity-results.ts'
import { type Login, login, requestPool } from '../credentials.ts'
import type { PooledRequest } from '../load.ts'
import { limitCpus, pinCluster } from '../machine.ts'
import { idleWindow, marginalCosts, rawWindow } from '../model-window.ts'
import { CLUSTER_ENV, CONNECTIONS } from '../profiles.ts'
import type { Results } from '../results.ts'
import { median } from '../stats.ts'
import { check } from './capacity.ts'
import { type BenchContext, stopMainCluster } from './context.ts'

/** The primaries' quota in the calibrating and the checked window: shares of the unconstrained rate. */
const CALIBRATION_SHARE = 0.25
const CHECK_SHARE = 0.45
/** Sessions spread over the primaries' slots: enough keys that each primary gets its share. */
const SESSIONS = 48

export function clusterCheckApplies(ctx: BenchContext): boolean | string {
  if (!ctx.profile.capacityValidation || ctx.opts.gateway || ctx.redisMode !== 'standalone') return false
  return ctx.results.capacityModel?.calibration !== undefined || 'the Redis Cluster check (no calibration)'
}

async function primariesOf(cluster: Cluster): Promise<Primaries> {
  const clients: Redis[] = []
  const pids: number[] = []
  for (const node of cluster.topology.nodes) {
    const client = new Redis(node.url, { maxRetriesPerRequest: 1 })
    if (/^role:master/m.test(await client.info('replication'))) {
      clients.push(client)
      pids.push(node.pid())
    } else client.disconnect()
  }
  return { clients, pids }
}

type Primaries = { clients: Redis[]; pids: number[] }

/** Logins enough that the keys spread over every primary (the warm pool's four would not). */
async function sessions(base: string, runId: string): Promise<PooledRequest[]> {
  const logins: Login[] = []
  for (let i = 0; i < SESSIONS; i += 8)
    logins.push(
      ...(await Promise.all(
        Array.from({ length: 8 }, (_, j) => login(base, userEmail(`${runId}-rc`, i + j))),
      )),
    )
  return requestPool('session', { sessions: logins, tokens: [] })
}

/** A saturating window with every primary held to `fraction` of a core (0: none held). */
async function windowAt(
  ctx: BenchContext,
  cluster: Cluster,
  p: Primaries,
  requests: PooledRequest[],
  fraction: number,
) {
  const release = fraction > 0 ? limitCpus(p.pids, fraction) : () => {}
  if (typeof release === 'string') throw new Error(`Redis Cluster check: ${release}`)
  try {
    const load = (durationS: number) =>
      ctx.generator.saturate(cluster.url, requests, { connections: CONNECTIONS, durationS })
    await load(0.5)
    return await rawWindow(cluster, p.clients, () => load(Math.max(2, ctx.profile.windowS)))
  } finally {
    release()
  }
}

/** Each primary's quota for Redis to serve `share` of `rps`, given its cost per request and idle CPU. */
const quotaFor = (share: number, rps: number, usPerRequest: number, idleUs: number, primaries: number) =>
  (share * rps * usPerRequest) / primaries / 1e6 + idleUs / 1e6

/** Rounds of a calibrating window at one quota and a checked one at another; medians of each. */
async function measureOn(ctx: BenchContext, cluster: Cluster, p: Primaries) {
  const names = [...cluster.replicas.values()].flatMap((l) => l.map((r) => r.replica))
  const requests = await sessions(cluster.url, ctx.runId)
  const idle = await idleWindow(cluster, p.clients, names, 3)
  const n = p.pids.length
  const free = marginalCosts(await windowAt(ctx, cluster, p, requests, 0), idle, names, n)
  const usPerRequest = (c: ModeCalibration) => c.redisCommandsPerRequest * c.redisUsPerCommand
  const fA = quotaFor(CALIBRATION_SHARE, free.rps, usPerRequest(free), idle.redisUsPerS, n)
  const calibrating: ModeCalibration[] = []
  const checked: { rps: number; quotaUsed: number }[] = []
  let fB: number | undefined
  for (let round = 0; round < Math.max(2, Math.ceil(ctx.profile.repetitions / 2)); round++) {
    calibrating.push(marginalCosts(await windowAt(ctx, cluster, p, requests, fA), idle, names, n))
    fB ??= quotaFor(CHECK_SHARE, free.rps, usPerRequest(calibrating[0]!), idle.redisUsPerS, n)
    const w = await windowAt(ctx, cluster, p, requests, fB)
    checked.push({ rps: w.ok / w.elapsedS, quotaUsed: w.redisCpuUs / (fB * n * 1e6 * w.elapsedS) })
  }
  return { idle, usPerCommand: median(calibrating.map((c) => c.redisUsPerCommand)), fB: fB!, checked }
}

export async function checkOnRedisCluster(ctx: BenchContext): Promise<Pick<Results, 'capacityModel'>> {
  await stopMainCluster(ctx)
  ctx.log(
    'capacity model: a Redis Cluster of its own (3 primaries), session with every primary held to a quota',
  )
  const cluster = await startCluster({ replicas: 1, port: 0, env: CLUSTER_ENV, redisMode: 'cluster' })
  const primaries = await primariesOf(cluster)
  try {
    await pinCluster(cluster)
    const { idle, usPerCommand, fB, checked } = await measureOn(ctx, cluster, primaries)
    const model = ctx.results.capacityModel!
    const n = primaries.pids.length
    const calibration = {
      ...model.calibration!,
      redisCluster: { primaries: n, usPerCommand, idleUsPerSPerNode: idle.redisUsPerS },
    }
    const predicted = maxRps(calibration, 'session', {
      replicaProcesses: 2,
      replicaCores: 2,
      redisPrimaries: n,
      redisCoresEach: fB,
      topology: 'cluster',
      authCores: 1,
    })
    const limit = `each of ${n} Redis Cluster primaries held to ${fB.toFixed(3)} of a core`
    const result: ModelCheck = check('redis-cluster', 'session', 1, limit, predicted.rps, checked)
    ctx.log(
      `  check redis-cluster: predicted ${result.predictedRps.toFixed(0)}, measured ${result.measuredRps.toFixed(0)} req/s (${result.ratio.toFixed(2)}×)`,
    )
    return { capacityModel: { ...model, calibration, checks: [...(model.checks ?? []), result] } }
  } finally {
    for (const c of primaries.clients) c.disconnect()
    await cluster.close()
  }
}
