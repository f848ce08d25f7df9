// The first phase: the native cluster (or the gateway as it is), admin clients on its Redis, the
// servers pinned away from the load generator, and the generator started.
import { PEER_SERVICES, startCluster } from '@authlab/cluster'
import { Redis } from 'ioredis'
import { LoadGenerator, vegetaBinary } from '../load.ts'
import { pinCluster, pinningNote } from '../machine.ts'
import { CLUSTER_ENV, PROFILES } from '../profiles.ts'
import { type BenchContext, type BenchOptions, type Held, release } from './context.ts'

/** What is decided before anything starts. */
type Plan = Pick<
  BenchContext,
  'opts' | 'profile' | 'log' | 'runId' | 'startedAt' | 'seed' | 'redisMode' | 'sweep' | 'skipped'
>

function plan(opts: BenchOptions): Plan {
  const profile = PROFILES[opts.profile]
  return {
    opts,
    profile,
    log: opts.log,
    runId: Date.now().toString(36),
    startedAt: new Date().toISOString(),
    seed: opts.seed ?? Math.floor(Math.random() * 2 ** 31),
    redisMode: opts.redisMode ?? 'standalone',
    sweep: opts.gateway ? [0] : profile.sweep.filter((r) => r <= (opts.maxReplicas ?? 64)),
    skipped: [],
  }
}

async function startMainCluster(p: Plan, held: Held): Promise<void> {
  if (p.opts.gateway) {
    p.skipped.push(
      'replica sweep, CPU cost per tier, faults and the capacity model (they need process control; --gateway measures the gateway as it is)',
    )
    p.skipped.push('the textbook peer rows and probe: the bench starts the peer only in its native cluster')
    return
  }
  const replicas = Math.max(...p.sweep)
  p.log(`starting a native cluster with ${replicas} replicas per service`)
  held.cluster = await startCluster({
    replicas,
    port: 0,
    env: CLUSTER_ENV,
    redisMode: p.redisMode,
    peers: peersFor(p),
  })
}

/** The textbook peer runs beside the modes where it can: the tutorial code reads REDIS_URL only. */
function peersFor(p: Plan): readonly string[] {
  if (p.redisMode === 'standalone') return PEER_SERVICES
  p.skipped.push(
    `the textbook peer rows and probe: with a Redis ${p.redisMode} (the tutorial code reads REDIS_URL only, a standalone Redis)`,
  )
  return []
}

function admin(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1 })
  // The fault scenarios stop Redis on purpose; the bench's own client just waits for it.
  client.on('error', () => {})
  return client
}

/** Admin clients on every Redis node, or on the one standalone Redis (the cluster's or --redis-url). */
function connectRedis(p: Plan, held: Held): void {
  if (p.redisMode !== 'standalone' && held.cluster) {
    held.redisNodes = held.cluster.topology.nodes.map((n) => admin(n.url))
    p.skipped.push(
      `with a Redis ${p.redisMode}: the Redis round trip, the capacity model (it calibrates on a standalone Redis; its Redis Cluster check starts a cluster of its own), the fault scenarios (they stop one Redis; see pnpm failover) and the network delay phase (one Redis behind a relay)`,
    )
    return
  }
  const redisUrl = p.opts.redisUrl ?? held.cluster?.redis.url
  if (redisUrl) {
    held.redis = admin(redisUrl)
    held.redisNodes = [held.redis]
  } else {
    p.skipped.push('Redis commands and CPU per request (pass --redis-url to measure them against a gateway)')
  }
}

async function open(p: Plan, held: Held): Promise<BenchContext> {
  await startMainCluster(p, held)
  const base = p.opts.gateway ?? held.cluster!.url
  connectRedis(p, held)
  const generatorCpus = held.cluster ? await pinCluster(held.cluster) : undefined
  const generator = LoadGenerator.start(generatorCpus)
  held.generator = generator
  if (!vegetaBinary())
    p.skipped.push(
      'open-model latency (vegeta not found): latency measured with autocannon at a fixed rate, which hides stalls (coordinated omission)',
    )
  return {
    ...p,
    ...held,
    base,
    generator,
    generatorCpus,
    pinning: pinningNote(generatorCpus),
    pools: new Map(),
    backgroundCallsPerS: 0,
    results: {},
  }
}

/** Starts what the bench measures; whatever had started is closed again when a step fails. */
export async function startBench(opts: BenchOptions): Promise<BenchContext> {
  const held: Held = { redisNodes: [] }
  try {
    return await open(plan(opts), held)
  } catch (err) {
    await release(held)
    throw err
  }
}
