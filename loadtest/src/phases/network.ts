// Latency per mode at a fixed arrival rate with Redis and auth a network hop away from the
// replicas: each delay is set on the path both ways, and the Redis round trip through it measured.
// The kernel's netem would be the natural tool; where this kernel lacks it, a userspace relay on
// the generator's CPUs holds each chunk for the delay (the report says which one ran).
import { type Cluster, startCluster } from '@authlab/cluster'
import { Redis } from 'ioredis'
import { MODES } from '../../lib/scenarios.js'
import { credentialPool, type Login, type Mode, requestPool } from '../credentials.ts'
import { fixedRate, type LoadResult, type PooledRequest } from '../load.ts'
import { pinCluster } from '../machine.ts'
import { DelayRelay, netemUnavailable, relayBinary } from '../network.ts'
import { CLUSTER_ENV, CONNECTIONS, NETWORK_RATE_RPS, NETWORK_WINDOW_S } from '../profiles.ts'
import type { Results } from '../results.ts'
import { median } from '../stats.ts'
import { type BenchContext, stopMainCluster } from './context.ts'

type NetworkRun = NonNullable<Results['network']>
type DelayRun = NetworkRun['delays'][number]
type WarmPool = { sessions: Login[]; tokens: Login[] }

const MECHANISM = 'userspace delay relay (loadtest/relay) between the replicas and Redis/auth'
const REPLICAS = 2
const RTT_PINGS = 50

/** A cluster of its own whose replicas reach Redis and auth through delay relays. */
interface DelayedCluster {
  cluster: Cluster
  relays: Map<string, DelayRelay>
  /** a client on Redis through its relay, for the round trip */
  probe: Redis
}

const delaysOf = (ctx: BenchContext) => ctx.opts.delaysMs ?? ctx.profile.delaysMs

function relayUnavailable(): string | undefined {
  try {
    relayBinary()
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

/**
 * It runs when delays are asked for, the relay is built, Redis is one server (the set-up said so
 * otherwise) and there is a main cluster (it starts its own, so not against a gateway).
 */
export function networkApplies(ctx: BenchContext): boolean | string {
  const delaysMs = delaysOf(ctx)
  const relayMissing = delaysMs.length ? relayUnavailable() : undefined
  if (relayMissing) return `network delay phase (${relayMissing})`
  if (ctx.redisMode !== 'standalone' || !delaysMs.length) return false
  if (!ctx.cluster) return 'network delay phase (it starts its own cluster; not with --gateway)'
  return true
}

async function startDelayedCluster(generatorCpus: string | undefined): Promise<DelayedCluster> {
  const relays = new Map<string, DelayRelay>()
  const cluster = await startCluster({
    replicas: REPLICAS,
    port: 0,
    env: CLUSTER_ENV,
    downstreamRoute: async (target) => {
      const relay = await DelayRelay.start(target, generatorCpus)
      relays.set(target.name, relay)
      return relay.address
    },
  })
  const probeUrl = new URL(cluster.redis.urlFor('downstream'))
  probeUrl.hostname = relays.get('redis')!.address.host
  probeUrl.port = String(relays.get('redis')!.address.port)
  return { cluster, relays, probe: new Redis(probeUrl.href, { maxRetriesPerRequest: 1 }) }
}

async function closeDelayedCluster(d: DelayedCluster): Promise<void> {
  d.probe.disconnect()
  await d.cluster.close()
  for (const r of d.relays.values()) r.close()
}

function fixedRateWindow(ctx: BenchContext, url: string, requests: PooledRequest[]): Promise<LoadResult> {
  return fixedRate(url, requests, {
    rate: NETWORK_RATE_RPS,
    durationS: NETWORK_WINDOW_S,
    cpus: ctx.generatorCpus,
    fallback: ctx.generator,
  })
}

async function warmUpDelayed(ctx: BenchContext, url: string, pool: WarmPool): Promise<void> {
  // Fresh processes run interpreted: one saturating pass over every mode before any figure.
  const mixed = (MODES as readonly Mode[]).flatMap((mode) => requestPool(mode, pool))
  await ctx.generator.saturate(url, mixed, { connections: CONNECTIONS, durationS: 3 })
  // And one discarded fixed-rate round: without it the first delay measured ran on code paths
  // (introspection at auth, the fixed-rate generator) still warming up, and read slower than the
  // next, larger delay.
  for (const mode of MODES as readonly Mode[]) await fixedRateWindow(ctx, url, requestPool(mode, pool))
}

async function redisRttsMs(probe: Redis): Promise<number[]> {
  const rtts: number[] = []
  for (let i = 0; i < RTT_PINGS; i++) {
    const started = process.hrtime.bigint()
    await probe.ping()
    rtts.push(Number(process.hrtime.bigint() - started) / 1e6)
  }
  return rtts
}

async function measureDelay(
  ctx: BenchContext,
  d: DelayedCluster,
  pool: WarmPool,
  delayMs: number,
): Promise<DelayRun> {
  await Promise.all([...d.relays.values()].map((r) => r.setDelay(delayMs)))
  const rtts = await redisRttsMs(d.probe)
  const modes: DelayRun['modes'] = {}
  for (const mode of MODES as readonly Mode[]) {
    const r = await fixedRateWindow(ctx, d.cluster.url, requestPool(mode, pool))
    modes[mode] = { p50Ms: r.p50Ms, p95Ms: r.p95Ms, p99Ms: r.p99Ms, errors: r.non2xx + r.errors }
  }
  ctx.log(
    `  delay ${delayMs} ms one way: Redis RTT ${median(rtts).toFixed(2)} ms; p50 ${MODES.map((m) => `${m} ${modes[m]!.p50Ms.toFixed(2)}`).join(', ')}`,
  )
  return { delayMs, redisRoundTripMs: median(rtts), modes }
}

export async function measureNetworkDelays(ctx: BenchContext): Promise<Pick<Results, 'network'>> {
  // Its own cluster: the main one stops first, so the two never share the servers' core.
  await stopMainCluster(ctx)
  const netem = netemUnavailable()
  ctx.log(`network phase: ${MECHANISM}${netem ? ` (kernel delay unavailable: ${netem})` : ''}`)
  const delayed = await startDelayedCluster(ctx.generatorCpus)
  try {
    await pinCluster(delayed.cluster)
    const pool = await credentialPool(delayed.cluster.url, 'warm', `net-${Date.now().toString(36)}`)
    await warmUpDelayed(ctx, delayed.cluster.url, pool)
    const delays: DelayRun[] = []
    for (const delayMs of delaysOf(ctx)) delays.push(await measureDelay(ctx, delayed, pool, delayMs))
    const network: NetworkRun = {
      mechanism: MECHANISM,
      ...(netem ? { note: `kernel delay unavailable: ${netem}` } : {}),
      replicas: REPLICAS,
      rateRps: NETWORK_RATE_RPS,
      durationS: NETWORK_WINDOW_S,
      delays,
    }
    return { network }
  } finally {
    await closeDelayedCluster(delayed)
  }
}
