import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { type Cluster, startCluster, UNLIMITED_LOGINS_ENV } from '@authlab/cluster'
import { hasBinary, type RedisTopologyMode } from '@authlab/servers'
import { Redis } from 'ioredis'
import { MODES, SERVICES, TOKEN_PROFILES } from '../lib/scenarios.js'
import { measureAlgorithms, redisRoundTripUs } from './algorithms.ts'
import { CAPACITY_ASSUMPTIONS, predict } from './capacity.ts'
import {
  credentialPool,
  type Login,
  type Mode,
  requestPool,
  servicePool,
  type TokenProfile,
} from './credentials.ts'
import { measureTopologies } from './failover.ts'
import { runFaults } from './faults.ts'
import { k6Saturate } from './k6.ts'
import type { PooledRequest } from './load.ts'
import { fixedRate, LoadGenerator, vegetaBinary } from './load.ts'
import { measureWindow, redisStats } from './measure.ts'
import { DelayRelay, netemUnavailable, relayBinary } from './network.ts'
import { measureRepetitions, measureSameWindow } from './repetitions.ts'
import { costTable, headlineRun, renderHtml, renderMarkdown } from './report.ts'
import type { ModeRun, Results, Run } from './results.ts'
import { revocationProbe } from './revocation.ts'
import { validateResults } from './schema.ts'
import { median, seeded } from './stats.ts'

type ProfileName = 'smoke' | 'quick' | 'full'

type Pool = { sessions: Login[]; tokens: Login[]; builtAt: number }

interface Profile {
  sweep: number[]
  tokenProfiles: TokenProfile[]
  windowS: number
  warmupS: number
  repetitions: number
  /** same-window repetitions: the mode on one service, `none` on the other, in one window */
  sameWindowRepetitions: number
  sameWindowS: number
  sameWindowWarmupS: number
  latencyS: number
  revocationTrials: number
  faultPhaseMs: number
  capacityValidation: boolean
  /** cap on cold-profile logins (argon2 per login is the slow part of the setup) */
  coldLogins: number
  /** measure the cold profile at every replica count, or only at the largest */
  coldAtEveryCount: boolean
  /** measure fixed-rate latency at every replica count, or only at the largest */
  latencyAtEveryCount: boolean
  /** one-way delays (ms) put between the replicas and Redis/auth for the network phase; [] skips it */
  delaysMs: number[]
  /** kill the Redis primary under load in each topology (standalone, sentinel, cluster) */
  failover: boolean
}

const PROFILES: Record<ProfileName, Profile> = {
  smoke: {
    sweep: [2],
    tokenProfiles: ['warm'],
    windowS: 0.5,
    warmupS: 0,
    repetitions: 2,
    sameWindowRepetitions: 2,
    sameWindowS: 0.3,
    sameWindowWarmupS: 0.1,
    latencyS: 0.5,
    revocationTrials: 3,
    faultPhaseMs: 800,
    capacityValidation: false,
    failover: false,
    coldLogins: 40,
    coldAtEveryCount: false,
    latencyAtEveryCount: true,
    delaysMs: [],
  },
  quick: {
    sweep: [1, 2],
    tokenProfiles: ['warm', 'cold'],
    windowS: 0.5,
    warmupS: 0.2,
    repetitions: 3,
    sameWindowRepetitions: 4,
    sameWindowS: 0.5,
    sameWindowWarmupS: 0.2,
    latencyS: 0.5,
    revocationTrials: 3,
    faultPhaseMs: 600,
    capacityValidation: true,
    failover: false,
    coldLogins: 64,
    coldAtEveryCount: false,
    latencyAtEveryCount: false,
    delaysMs: [],
  },
  full: {
    sweep: [1, 2, 4],
    tokenProfiles: ['warm', 'cold'],
    // Many short interleaved windows beat a few long ones: drift between repetitions cancels in
    // the paired ratios, and the bootstrap interval narrows with the repetition count.
    windowS: 1,
    warmupS: 0.5,
    repetitions: 6,
    // The cost ratios come from here: many short paired windows, whose median the host's speed
    // changes cannot move (see measureSameWindow).
    sameWindowRepetitions: 16,
    sameWindowS: 0.75,
    sameWindowWarmupS: 0.25,
    latencyS: 2,
    revocationTrials: 30,
    faultPhaseMs: 3000,
    capacityValidation: true,
    failover: true,
    coldLogins: 150,
    coldAtEveryCount: false,
    latencyAtEveryCount: true,
    delaysMs: [0, 0.25, 0.5, 1],
  },
}

// Bench cluster settings: caches smaller than the cold pool's share per replica and larger than
// the warm pool's, so the token profiles are what they say.
const CLUSTER_ENV = {
  // A full run lasts longer than the default 5-minute access TTL; the pools are refreshed anyway.
  ACCESS_TOKEN_TTL_S: '3600',
  ...UNLIMITED_LOGINS_ENV,
  JWT_VERIFY_CACHE_SIZE: '32',
  SESSION_CACHE_MAX_ENTRIES: '8',
  SESSION_CACHE_TTL_MS: '1000',
  PUSHED_MAX_STALENESS_MS: '2000',
  LOG_LEVEL: 'warn',
}
const CONNECTIONS = 24
const REVOCATION_WINDOW_MS = 2500
/** after a fault is repaired, how long every mode gets to recover before revoked credentials are tried */
const FAULT_SETTLE_MS = 2500

export interface BenchOptions {
  profile: ProfileName
  gateway?: string
  redisUrl?: string
  /** The native cluster's Redis: one server (default), a Sentinel set or a Redis Cluster. */
  redisMode?: RedisTopologyMode
  /** overrides the profile's failover phase (each Redis topology's primary killed under load) */
  failover?: boolean
  maxReplicas?: number
  generator: 'native' | 'k6'
  /** overrides the profile's network delays (ms one way); [] skips the network phase */
  delaysMs?: number[]
  /** seeds the window order (a fresh one per run when absent; written to results.json to replay) */
  seed?: number
  outDir: string
  log: (line: string) => void
}

/** What a `--version`-style command prints, on stdout or (nginx) stderr. */
function version(command: string, args: string[]): string | undefined {
  const r = spawnSync(command, args, { encoding: 'utf8' })
  return r.error ? undefined : `${r.stdout}${r.stderr}`.trim() || undefined
}

function machine(pinning: string) {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    node: process.versions.node,
    redis: version('redis-server', ['--version'])?.match(/v=([\d.]+)/)?.[1],
    nginx: (version('nginx', ['-v']) ?? version('/usr/sbin/nginx', ['-v']))?.split('/')[1],
    postgres: version('sh', ['-c', 'ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1']),
    // A go-installed vegeta has no version string of its own; its module version is in the binary.
    vegeta: vegetaBinary()
      ? version('go', ['version', '-m', vegetaBinary()!])?.match(/vegeta\/v12\s+(v[\d.]+)/)?.[1]
      : undefined,
    platform: `${process.platform} ${process.arch}`,
    pinning,
  }
}

/**
 * Servers on CPU 0, the load generator on the rest: the generator's CPU then never counts as the
 * servers', and it cannot steal their core mid-window. Needs taskset and at least 2 CPUs.
 */
async function pinCluster(cluster: Cluster): Promise<string | undefined> {
  if (cpus().length < 2 || !hasBinary('taskset')) return undefined
  for (const pids of Object.values(await cluster.pids())) {
    for (const pid of pids)
      if (pid > 0) execFileSync('taskset', ['-a', '-p', '-c', '0', String(pid)], { stdio: 'ignore' })
  }
  return cpus().length === 2 ? '1' : `1-${cpus().length - 1}`
}

/** Holds Redis to `fraction` of a core with a cgroup (v1 or v2) CPU quota; returns a release function. */
function limitRedisCpu(pid: number, fraction: number): (() => void) | string {
  const period = 100_000
  const quota = Math.max(1000, Math.round(fraction * period))
  const v1 = '/sys/fs/cgroup/cpu'
  const v2 = '/sys/fs/cgroup'
  try {
    if (existsSync(`${v1}/cpu.cfs_quota_us`)) {
      const dir = `${v1}/authlab-redis-${pid}`
      mkdirSync(dir)
      writeFileSync(`${dir}/cpu.cfs_period_us`, String(period))
      writeFileSync(`${dir}/cpu.cfs_quota_us`, String(quota))
      writeFileSync(`${dir}/cgroup.procs`, String(pid))
      return () => {
        writeFileSync(`${v1}/cgroup.procs`, String(pid))
        rmdirSync(dir)
      }
    }
    if (existsSync(`${v2}/cgroup.controllers`)) {
      const dir = `${v2}/authlab-redis-${pid}`
      mkdirSync(dir)
      writeFileSync(`${dir}/cpu.max`, `${quota} ${period}`)
      writeFileSync(`${dir}/cgroup.procs`, String(pid))
      return () => {
        writeFileSync(`${v2}/cgroup.procs`, String(pid))
        rmdirSync(dir)
      }
    }
    return 'no cgroup CPU controller'
  } catch (err) {
    return `cgroup not writable: ${(err as Error).message}`
  }
}

export async function runBench(opts: BenchOptions): Promise<{ results: Results; dir: string }> {
  const profile = PROFILES[opts.profile]
  const log = opts.log
  const run = Date.now().toString(36)
  const startedAt = new Date().toISOString()
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31)
  const skipped: string[] = []
  let cluster: Cluster | undefined
  let redis: Redis | undefined
  /** Every Redis node, for commands and CPU per request (one node unless sentinel or cluster). */
  let redisNodes: Redis[] = []
  let generator: LoadGenerator | undefined
  const redisMode = opts.redisMode ?? 'standalone'
  try {
    const sweep = opts.gateway ? [0] : profile.sweep.filter((r) => r <= (opts.maxReplicas ?? 64))
    if (opts.gateway) {
      skipped.push(
        'replica sweep, CPU cost per tier, faults and the capacity model (they need process control; --gateway measures the gateway as it is)',
      )
    } else {
      log(`starting a native cluster with ${Math.max(...sweep)} replicas per service`)
      cluster = await startCluster({ replicas: Math.max(...sweep), port: 0, env: CLUSTER_ENV, redisMode })
    }
    const base = opts.gateway ?? cluster!.url
    const admin = (url: string) => {
      const client = new Redis(url, { maxRetriesPerRequest: 1 })
      // The fault scenarios stop Redis on purpose; the bench's own client just waits for it.
      client.on('error', () => {})
      return client
    }
    if (redisMode !== 'standalone' && cluster) {
      redisNodes = cluster.topology.nodes.map((n) => admin(n.url))
      skipped.push(
        `with a Redis ${redisMode}: the Redis round trip, the capacity model's validation (it throttles one Redis process), the fault scenarios (they stop one Redis; see pnpm failover) and the network delay phase (one Redis behind a relay)`,
      )
    } else {
      const redisUrl = opts.redisUrl ?? cluster?.redis.url
      if (redisUrl) {
        redis = admin(redisUrl)
        redisNodes = [redis]
      } else
        skipped.push(
          'Redis commands and CPU per request (pass --redis-url to measure them against a gateway)',
        )
    }
    const generatorCpus = cluster ? await pinCluster(cluster) : undefined
    generator = LoadGenerator.start(generatorCpus)
    const saturate = (url: string, pool: PooledRequest[], o: { connections: number; durationS: number }) =>
      generator!.saturate(url, pool, o)
    const pinning = generatorCpus
      ? `Servers pinned to CPU 0, load generator to CPU ${generatorCpus}.`
      : 'No CPU pinning.'
    if (!vegetaBinary())
      skipped.push(
        'open-model latency (vegeta not found): latency measured with autocannon at a fixed rate, which hides stalls (coordinated omission)',
      )

    log('measuring signing algorithms (cold and warm verification)')
    const algorithms = {
      verify: measureAlgorithms(opts.profile === 'full' ? 4000 : 1000),
      ...(redis ? { redisRoundTripUs: await redisRoundTripUs(redis) } : {}),
    }

    log('building credential pools')
    const pools = new Map<TokenProfile, Pool>()
    const buildPool = async (tp: TokenProfile) => {
      const maxLogins = opts.gateway ? 10 : tp === 'cold' ? profile.coldLogins : Number.POSITIVE_INFINITY
      const pool = await credentialPool(
        base,
        tp,
        `${run}-${pools.size}-${Date.now().toString(36)}`,
        maxLogins,
      )
      pools.set(tp, { ...pool, builtAt: Date.now() })
      log(`  ${tp}: ${pool.sessions.length} sessions, ${pool.tokens.length} access tokens`)
    }
    for (const tp of profile.tokenProfiles) await buildPool(tp)
    // Tokens must not expire mid-run (a gateway's TTL is not ours to set): rebuild at 60 % of it.
    const fresh = async (tp: TokenProfile) => {
      const pool = pools.get(tp)!
      const ttlMs = (pool.tokens[0]?.expiresIn ?? 300) * 1000
      if (Date.now() - pool.builtAt > 0.6 * ttlMs) await buildPool(tp)
      return pools.get(tp)!
    }

    let backgroundCallsPerS = 0
    if (redisNodes.length) {
      const before = await redisStats(redisNodes)
      await new Promise((r) => setTimeout(r, 1000))
      backgroundCallsPerS = (await redisStats(redisNodes)).calls - before.calls
    }

    // A fresh Node process runs interpreted until its hot paths are compiled: the first mode measured
    // would pay for every process's JIT warm-up. One pass over every mode first.
    log('warming up every mode')
    for (const tp of profile.tokenProfiles) {
      // One window over all modes interleaved.
      const mixed = (MODES as readonly Mode[]).flatMap((mode) =>
        requestPool(mode, pools.get(tp)!).slice(0, 64),
      )
      await saturate(base, mixed, { connections: CONNECTIONS, durationS: 2 })
    }

    const runs: Run[] = []
    const algorithm = 'EdDSA' as const
    const generatorName = opts.generator === 'k6' ? 'k6 (throughput.js)' : 'autocannon'
    let latencyGenerator = vegetaBinary() ? 'vegeta (open model)' : 'autocannon (fixed rate, closed loop)'
    const random = seeded(seed)
    for (const replicas of sweep) {
      if (cluster && replicas !== cluster.activeReplicas) await cluster.setActiveReplicas(replicas)
      const activeNames = cluster
        ? [...cluster.replicas.values()].flatMap((l) => l.slice(0, replicas).map((p) => p.replica))
        : []
      for (const tp of profile.tokenProfiles) {
        if (tp === 'cold' && !profile.coldAtEveryCount && replicas !== Math.max(...sweep)) continue
        const pool = await fresh(tp)
        const measured = await measureRepetitions({
          profile,
          random,
          window: async (mode) => {
            const requests = requestPool(mode, pool)
            await saturate(base, requests, { connections: CONNECTIONS, durationS: profile.warmupS })
            return measureWindow(
              cluster,
              redisNodes.length ? redisNodes : undefined,
              backgroundCallsPerS,
              activeNames,
              () =>
                opts.generator === 'k6'
                  ? k6Saturate(base, mode, tp, profile.windowS, CONNECTIONS)
                  : saturate(base, requests, { connections: CONNECTIONS, durationS: profile.windowS }),
            )
          },
          log: (line) => log(`  replicas=${replicas} ${tp} ${line}`),
        })
        const sameWindow =
          cluster && opts.generator !== 'k6' && profile.sameWindowRepetitions > 0
            ? await measureSameWindow({
                repetitions: profile.sameWindowRepetitions,
                random,
                services: SERVICES as unknown as [string, string],
                window: async (mode, modeService, noneService) => {
                  const c = cluster!
                  const side = servicePool(mode, pool, modeService)
                  const other = servicePool('none', pool, noneService)
                  // Strict alternation: both sides are sent the same number of requests.
                  const mixed = side.flatMap((r, i) => [r, other[i % other.length]!])
                  await saturate(base, mixed, {
                    connections: CONNECTIONS,
                    durationS: profile.sameWindowWarmupS,
                  })
                  const before = await c.cpuTimes()
                  const switchesBefore = c.contextSwitches()
                  const result = await saturate(base, mixed, {
                    connections: CONNECTIONS,
                    durationS: profile.sameWindowS,
                  })
                  const switchesAfter = c.contextSwitches()
                  const after = await c.cpuTimes()
                  const sum = (service: string, from: Record<string, number>, to: Record<string, number>) =>
                    (c.replicas.get(service) ?? [])
                      .slice(0, replicas)
                      .reduce((total, p) => total + (to[p.replica] ?? 0) - (from[p.replica] ?? 0), 0)
                  const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0)
                  const modeCpu = sum(modeService, before, after)
                  const noneCpu = sum(noneService, before, after)
                  // Only the mode's requests reach Redis, auth and Postgres; both sides pass nginx
                  // alike. In the A/A slot, their background (readiness polls) lands on one side,
                  // which the A/A control then shows.
                  const backing = delta('redis') + delta('auth') + delta('postgres')
                  const perSide = result.ok / 2
                  return {
                    replicaCpu: modeCpu / noneCpu,
                    serverCpu: (modeCpu + backing + delta('nginx') / 2) / (noneCpu + delta('nginx') / 2),
                    wakeups: {
                      mode: sum(modeService, switchesBefore, switchesAfter) / perSide,
                      none: sum(noneService, switchesBefore, switchesAfter) / perSide,
                    },
                    errors: result.non2xx + result.errors,
                  }
                },
                log: (line) => log(`  replicas=${replicas} ${tp} ${line}`),
              })
            : undefined
        // Latency at one fixed arrival rate for every mode: half the slowest mode's saturation rate.
        const rate = Math.max(10, 0.5 * Math.min(...Object.values(measured.modes).map((m) => m.rps)))
        const measureLatency = profile.latencyAtEveryCount || replicas === Math.max(...sweep)
        const modes: Record<string, ModeRun> = {}
        for (const mode of MODES as readonly Mode[]) {
          const lat = measureLatency
            ? await fixedRate(base, requestPool(mode, pool), {
                rate,
                durationS: profile.latencyS,
                cpus: generatorCpus,
                fallback: generator,
              })
            : undefined
          if (lat) latencyGenerator = lat.generator
          const m = measured.modes[mode]!
          modes[mode] = {
            ...m,
            p50Ms: lat?.p50Ms ?? Number.NaN,
            p95Ms: lat?.p95Ms ?? Number.NaN,
            p99Ms: lat?.p99Ms ?? Number.NaN,
            latencyRate: rate,
            errors: m.errors + (lat ? lat.non2xx + lat.errors : 0),
            ...(sameWindow?.modes[mode] ? { sameWindow: sameWindow.modes[mode] } : {}),
          }
        }
        runs.push({
          replicas,
          tokenProfile: tp,
          algorithm,
          generator: generatorName,
          latencyGenerator,
          modes,
          order: measured.order,
          aa: measured.aa,
          noiseFloor: measured.noiseFloor,
          ...(sameWindow
            ? {
                sameWindow: {
                  aa: sameWindow.aa,
                  noiseFloor: sameWindow.noiseFloor,
                  serverAa: sameWindow.serverAa,
                  serverNoiseFloor: sameWindow.serverNoiseFloor,
                  repetitions: profile.sameWindowRepetitions,
                  windowS: profile.sameWindowS,
                  order: sameWindow.order,
                },
              }
            : {}),
        })
        log(
          `  replicas=${replicas} ${tp}: A/A ratio ${measured.aa.rps.median.toFixed(3)} rps, ${measured.aa.replicaCpu.median.toFixed(3)} replica CPU (noise floor ±${(100 * measured.noiseFloor.replicaCpu).toFixed(1)} %)`,
        )
        if (sameWindow)
          log(
            `  replicas=${replicas} ${tp}: same-window A/A ${sameWindow.aa.median.toFixed(3)} [${sameWindow.aa.lo.toFixed(3)}–${sameWindow.aa.hi.toFixed(3)}] replica CPU (noise floor ±${(100 * sameWindow.noiseFloor).toFixed(1)} %)`,
          )
      }
    }

    // Before the faults: the data-loss scenario deletes the sessions this check runs on.
    const capacityModel: Results['capacityModel'] = { modes: {} }
    const head = runs.filter((r) => r.tokenProfile === 'warm').sort((a, b) => b.replicas - a.replicas)[0]
    if (cluster && head) {
      for (const mode of MODES) capacityModel.modes[mode] = predict(mode, head.modes[mode]!)
      capacityModel.assumptions = CAPACITY_ASSUMPTIONS
      if (profile.capacityValidation && redis) {
        capacityModel.validation = await validateCapacity(
          generator,
          cluster,
          redis,
          head,
          await fresh('warm'),
          profile,
          backgroundCallsPerS,
          log,
        )
      }
    } else if (!opts.gateway) {
      skipped.push('capacity model (no warm run)')
    }

    log(`revocation probe: ${profile.revocationTrials} trials`)
    const revocation = await revocationProbe(base, {
      trials: profile.revocationTrials,
      windowMs: REVOCATION_WINDOW_MS,
      lanesPerMode: 2,
      run,
      onTrial: (i) => log(`  trial ${i + 1}/${profile.revocationTrials}`),
    })

    let faults: Results['faults'] = {}
    if (cluster && redisMode === 'standalone') {
      log('faults')
      faults = await runFaults(cluster, {
        phaseMs: profile.faultPhaseMs,
        run,
        settleMs: FAULT_SETTLE_MS,
        onScenario: (s) => log(`  ${s}`),
      })
    }

    const delaysMs = opts.delaysMs ?? profile.delaysMs
    let network: Results['network']
    const relayMissing = delaysMs.length ? relayUnavailable() : undefined
    if (relayMissing) {
      skipped.push(`network delay phase (${relayMissing})`)
    } else if (redisMode !== 'standalone') {
      // said in `skipped` above
    } else if (cluster && delaysMs.length) {
      // Its own cluster: the main one stops first, so the two never share the servers' core.
      await cluster.close()
      cluster = undefined
      network = await networkPhase({ delaysMs, generator, generatorCpus, log })
    } else if (delaysMs.length) {
      skipped.push('network delay phase (it starts its own cluster; not with --gateway)')
    }

    let topologies: Results['topologies']
    if (opts.failover ?? profile.failover) {
      if (opts.gateway || redisMode !== 'standalone') {
        skipped.push('the failover phase (it starts its own clusters; not with --gateway or --redis)')
      } else {
        // Its own clusters, one at a time: the main one stops first.
        await cluster?.close()
        cluster = undefined
        topologies = await measureTopologies({
          topologies: ['standalone', 'sentinel', 'cluster'],
          quick: opts.profile !== 'full',
          log,
        })
      }
    }

    const results: Results = {
      machine: machine(pinning),
      startedAt,
      finishedAt: new Date().toISOString(),
      profile: opts.profile,
      gateway: opts.gateway ?? 'native cluster',
      seed,
      settings: {
        windowS: profile.windowS,
        warmupS: profile.warmupS,
        repetitions: profile.repetitions,
        sameWindowRepetitions: profile.sameWindowRepetitions,
        sameWindowS: profile.sameWindowS,
        latencyS: profile.latencyS,
        connections: CONNECTIONS,
        replicaSweep: sweep,
        revocationWindowMs: REVOCATION_WINDOW_MS,
        warmPool: `${TOKEN_PROFILES.warm.logins} logins, each credential reused`,
        coldPool: `${pools.get('cold')?.sessions.length ?? 0} sessions and ${pools.get('cold')?.tokens.length ?? 0} distinct access tokens, cycled`,
        jwtVerifyCacheSize: Number(CLUSTER_ENV.JWT_VERIFY_CACHE_SIZE),
        sessionCacheMaxEntries: Number(CLUSTER_ENV.SESSION_CACHE_MAX_ENTRIES),
        sessionCacheTtlMs: Number(CLUSTER_ENV.SESSION_CACHE_TTL_MS),
        pushedMaxStalenessMs: Number(CLUSTER_ENV.PUSHED_MAX_STALENESS_MS),
        backgroundRedisCallsPerS: backgroundCallsPerS,
        redisMode: opts.gateway ? 'as the gateway has it' : redisMode,
      },
      skipped,
      runs,
      revocation,
      faults,
      ...(topologies ? { topologies } : {}),
      ...(network ? { network } : {}),
      algorithms,
      capacityModel,
    }
    const errors = validateResults(results)
    if (errors.length)
      throw new Error(`results.json does not match results.schema.json:\n${errors.join('\n')}`)
    const dir = join(opts.outDir, startedAt.replace(/[:.]/g, '-'))
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`)
    writeFileSync(join(dir, 'report.md'), renderMarkdown(results))
    writeFileSync(join(dir, 'report.html'), renderHtml(results))
    return { results, dir }
  } finally {
    generator?.close()
    for (const node of redisNodes) node.disconnect()
    redis?.disconnect()
    await cluster?.close()
  }
}

function relayUnavailable(): string | undefined {
  try {
    relayBinary()
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

const NETWORK_RATE_RPS = 200
const NETWORK_WINDOW_S = 2

/**
 * Latency per mode at a fixed arrival rate with Redis and auth a network hop away from the
 * replicas: each delay is set on the path both ways, and the Redis round trip through it measured.
 * The kernel's netem would be the natural tool; where this kernel lacks it, a userspace relay on
 * the generator's CPUs holds each chunk for the delay (the report says which one ran).
 */
async function networkPhase(o: {
  delaysMs: number[]
  generator: LoadGenerator
  generatorCpus: string | undefined
  log: (line: string) => void
}): Promise<NonNullable<Results['network']>> {
  const netem = netemUnavailable()
  const mechanism = 'userspace delay relay (loadtest/relay) between the replicas and Redis/auth'
  o.log(`network phase: ${mechanism}${netem ? ` (kernel delay unavailable: ${netem})` : ''}`)
  const relays = new Map<string, DelayRelay>()
  const cluster = await startCluster({
    replicas: 2,
    port: 0,
    env: CLUSTER_ENV,
    downstreamRoute: async (target) => {
      const relay = await DelayRelay.start(target, o.generatorCpus)
      relays.set(target.name, relay)
      return relay.address
    },
  })
  const probeUrl = new URL(cluster.redis.urlFor('downstream'))
  probeUrl.hostname = relays.get('redis')!.address.host
  probeUrl.port = String(relays.get('redis')!.address.port)
  const probe = new Redis(probeUrl.href, { maxRetriesPerRequest: 1 })
  try {
    await pinCluster(cluster)
    const pool = await credentialPool(cluster.url, 'warm', `net-${Date.now().toString(36)}`)
    // Fresh processes run interpreted: one saturating pass over every mode before any figure.
    const mixed = (MODES as readonly Mode[]).flatMap((mode) => requestPool(mode, pool))
    await o.generator.saturate(cluster.url, mixed, { connections: CONNECTIONS, durationS: 3 })
    // And one discarded fixed-rate round: without it the first delay measured ran on code paths
    // (introspection at auth, the fixed-rate generator) still warming up, and read slower than the
    // next, larger delay.
    for (const mode of MODES as readonly Mode[]) {
      await fixedRate(cluster.url, requestPool(mode, pool), {
        rate: NETWORK_RATE_RPS,
        durationS: NETWORK_WINDOW_S,
        cpus: o.generatorCpus,
        fallback: o.generator,
      })
    }
    const delays: NonNullable<Results['network']>['delays'] = []
    for (const delayMs of o.delaysMs) {
      await Promise.all([...relays.values()].map((r) => r.setDelay(delayMs)))
      const rtts: number[] = []
      for (let i = 0; i < 50; i++) {
        const started = process.hrtime.bigint()
        await probe.ping()
        rtts.push(Number(process.hrtime.bigint() - started) / 1e6)
      }
      const modes: NonNullable<Results['network']>['delays'][number]['modes'] = {}
      for (const mode of MODES as readonly Mode[]) {
        const r = await fixedRate(cluster.url, requestPool(mode, pool), {
          rate: NETWORK_RATE_RPS,
          durationS: NETWORK_WINDOW_S,
          cpus: o.generatorCpus,
          fallback: o.generator,
        })
        modes[mode] = { p50Ms: r.p50Ms, p95Ms: r.p95Ms, p99Ms: r.p99Ms, errors: r.non2xx + r.errors }
      }
      delays.push({ delayMs, redisRoundTripMs: median(rtts), modes })
      o.log(
        `  delay ${delayMs} ms one way: Redis RTT ${median(rtts).toFixed(2)} ms; p50 ${MODES.map((m) => `${m} ${modes[m]!.p50Ms.toFixed(2)}`).join(', ')}`,
      )
    }
    return {
      mechanism,
      ...(netem ? { note: `kernel delay unavailable: ${netem}` } : {}),
      replicas: 2,
      rateRps: NETWORK_RATE_RPS,
      durationS: NETWORK_WINDOW_S,
      delays,
    }
  } finally {
    probe.disconnect()
    await cluster.close()
    for (const r of relays.values()) r.close()
  }
}

/**
 * Makes Redis the bottleneck on purpose (a CPU quota on its process) for `session`, the mode with
 * one Redis command per request, predicts the throughput from the measured Redis CPU per request,
 * and measures it.
 */
async function validateCapacity(
  generator: LoadGenerator,
  cluster: Cluster,
  redis: Redis,
  head: Run,
  pool: { sessions: Login[]; tokens: Login[] },
  profile: Profile,
  backgroundCallsPerS: number,
  log: (l: string) => void,
): Promise<NonNullable<Results['capacityModel']['validation']>> {
  const mode: Mode = 'session'
  const cost = head.modes[mode]!
  const fraction = Math.min(0.5, Math.max(0.01, (0.3 * cost.rps * cost.redisCpuUsPerRequest) / 1e6))
  const predictedRps = (fraction * 1e6) / cost.redisCpuUsPerRequest
  const release = limitRedisCpu(cluster.redis.pid(), fraction)
  if (typeof release === 'string') return { mode, skipped: release }
  log(
    `capacity check: Redis held to ${fraction.toFixed(3)} of a core, predicted ${Math.round(predictedRps)} req/s for ${mode}`,
  )
  try {
    const requests = requestPool(mode, pool)
    await generator.saturate(cluster.url, requests, { connections: CONNECTIONS, durationS: 1 })
    const active = [...cluster.replicas.values()].flatMap((l) =>
      l.slice(0, head.replicas).map((p) => p.replica),
    )
    const { result, cost: under } = await measureWindow(cluster, redis, backgroundCallsPerS, active, () =>
      generator.saturate(cluster.url, requests, {
        connections: CONNECTIONS,
        durationS: Math.max(2, profile.windowS),
      }),
    )
    // Redis's own CPU per request in this window says why the prediction missed, if it did: the
    // model's input comes from other windows (the core's speed changes between them), and a Redis
    // held to its quota serves bursts after each throttled stretch.
    const redisUs = under?.redisCpuUsPerRequest ?? Number.NaN
    const quotaUsed = (result.rps * redisUs) / 1e6 / fraction
    log(
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

export function comparisonTable(results: Results): string {
  const head = headlineRun(results)
  return head ? costTable(head) : '(no runs)'
}

if (import.meta.main) {
  const { values } = parseArgs({
    allowNegative: true,
    options: {
      quick: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      gateway: { type: 'string' },
      'redis-url': { type: 'string' },
      // standalone (default), sentinel or cluster: the native cluster's Redis topology.
      redis: { type: 'string', default: 'standalone' },
      // --failover / --no-failover: the profile decides by default (full: on).
      failover: { type: 'boolean' },
      'max-replicas': { type: 'string' },
      generator: { type: 'string', default: 'native' },
      seed: { type: 'string' },
      delays: { type: 'string' },
      out: { type: 'string', default: new URL('../results', import.meta.url).pathname },
    },
  })
  if (values.generator !== 'native' && values.generator !== 'k6')
    throw new Error('--generator must be native or k6')
  if (values.generator === 'k6' && !hasBinary('k6'))
    throw new Error('--generator k6 needs a k6 on PATH (authlab does not install it)')
  const profile: ProfileName = values.smoke ? 'smoke' : values.quick ? 'quick' : 'full'
  const redisMode = values.redis
  if (redisMode !== 'standalone' && redisMode !== 'sentinel' && redisMode !== 'cluster')
    throw new Error('--redis must be standalone, sentinel or cluster')
  if (redisMode !== 'standalone' && values.gateway)
    throw new Error('--redis starts a native cluster; with --gateway the gateway has its own Redis')
  const started = Date.now()
  const { results, dir } = await runBench({
    profile,
    generator: values.generator,
    redisMode,
    ...(values.failover !== undefined ? { failover: values.failover } : {}),
    outDir: values.out,
    ...(values.gateway ? { gateway: values.gateway.replace(/\/$/, '') } : {}),
    ...(values['redis-url'] ? { redisUrl: values['redis-url'] } : {}),
    ...(values['max-replicas'] ? { maxReplicas: Number(values['max-replicas']) } : {}),
    ...(values.seed ? { seed: Number(values.seed) } : {}),
    ...(values.delays !== undefined
      ? { delaysMs: values.delays === 'none' ? [] : values.delays.split(',').map(Number) }
      : {}),
    log: (line) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}`),
  })
  console.log(`\n${comparisonTable(results)}\n`)
  console.log(`results: ${join(dir, 'results.json')}`)
  console.log(`report:  ${join(dir, 'report.html')} (and report.md)`)
}
