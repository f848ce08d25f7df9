import { createRedis, type RedisMode, redisReady, redisTopology } from '@authlab/clients'
import { type Cluster, startCluster, UNLIMITED_LOGINS_ENV } from '@authlab/cluster'
import { hashSessionId, keys, RevocationWriter } from '@authlab/revocation'
import type { RedisTopology } from '@authlab/servers'
import { headersFor, MODES, pathFor, SERVICES } from '../lib/scenarios.js'
import { type Login, login, type Mode } from './credentials.ts'
import type { FailoverModeOutcome, TopologyFailover } from './results.ts'

type FailoverMode = Exclude<Mode, 'none'>
/** The modes a failover can hurt: every one that reads shared state, and `jwt` as the control. */
export const FAILOVER_MODES = MODES.filter((m): m is FailoverMode => m !== 'none')

export type { FailoverModeOutcome, TopologyFailover } from './results.ts'
/** What one failover measured; the bench adds the cost of WAIT (see measureTopologies). */
export type FailoverOutcome = Omit<TopologyFailover, 'waitCost'>

export interface FailoverOptions {
  /** Steady traffic before the kill, and after the cluster is ready again. */
  beforeMs: number
  afterMs: number
  /** Logins whose sessions must survive (spread over a cluster's primaries). */
  users: number
  /** The modes' stated bounds (ms after a revocation returned), as configured on the cluster. */
  bounds: { sessionCacheTtlMs: number; pushedMaxStalenessMs: number }
  run: string
  /** Standalone only: how long Redis stays down before it is started again. */
  downMs?: number
}

interface Revoked {
  login: Login
  returned: number
}

async function hit(base: string, mode: Mode, who: Login, i: number): Promise<number> {
  try {
    const res = await fetch(`${base}${pathFor(SERVICES[i % SERVICES.length] as string, mode)}`, {
      headers: headersFor(mode, who),
      signal: AbortSignal.timeout(5000),
    })
    await res.arrayBuffer()
    return res.status
  } catch {
    return 0
  }
}

async function logout(base: string, who: Login): Promise<number> {
  try {
    const res = await fetch(`${base}/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${who.accessToken}` },
      signal: AbortSignal.timeout(5000),
    })
    await res.arrayBuffer()
    return res.status
  } catch {
    return 0
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Kills the Redis primary that holds the revocation keys (on a cluster also a third of the
 * sessions) under steady traffic on every mode, while logins are revoked one after another, and
 * measures what each mode saw: its error window, the sessions that did not survive, and whether
 * any revoked credential was accepted before, during or after the failover.
 */
export async function runFailover(cluster: Cluster, opts: FailoverOptions): Promise<FailoverOutcome> {
  const base = cluster.url
  const topology = cluster.topology
  const bound = (mode: FailoverMode): number =>
    mode === 'session-cached'
      ? opts.bounds.sessionCacheTtlMs
      : mode === 'jwt-pushed'
        ? opts.bounds.pushedMaxStalenessMs
        : 0
  const victim = await topology.primaryFor(keys.ready)
  const live: Login[] = []
  let sessionsOnKilledPrimary = 0
  // At least one session on the primary that dies (on a cluster a login lands on any of them).
  for (let i = 0; i < opts.users || (sessionsOnKilledPrimary === 0 && i < opts.users * 10); i++) {
    const l = await login(base, `failover-${opts.run}-${i}@example.test`)
    live.push(l)
    if ((await topology.primaryFor(keys.session(hashSessionId(l.sessionId)))) === victim)
      sessionsOnKilledPrimary++
  }

  const modes = Object.fromEntries(
    FAILOVER_MODES.map((m) => [
      m,
      { requests: 0, errors: 0, errorWindowMs: 0, revokedProbes: 0, revokedAccepted: 0 },
    ]),
  ) as Record<FailoverMode, FailoverModeOutcome>
  const failed: Record<string, { first: number; last: number }> = {}
  const revoked: Revoked[] = []
  const revocations = { attempted: 0, acknowledged: 0 }
  let stop = false

  const traffic = FAILOVER_MODES.flatMap((mode) =>
    [0, 1].map(async (worker) => {
      for (let i = worker; !stop; i += 2) {
        const start = Date.now()
        const status = await hit(base, mode, live[i % live.length] as Login, i)
        const o = modes[mode]
        o.requests++
        if (status !== 200) {
          o.errors++
          failed[mode] ??= { first: start, last: start }
          failed[mode].last = Date.now()
        }
      }
    }),
  )
  // One login after another revoked while everything else runs; a logout that fails (503 during
  // the failover) revoked nothing and says so, only acknowledged ones are probed.
  const revoker = (async () => {
    for (let i = 0; !stop; i++) {
      const who = await login(base, `failover-revoked-${opts.run}-${i % 4}@example.test`).catch(
        () => undefined,
      )
      if (!who) {
        await sleep(50)
        continue
      }
      revocations.attempted++
      if ((await logout(base, who)) === 204) {
        revocations.acknowledged++
        revoked.push({ login: who, returned: Date.now() })
      }
    }
  })()
  const prober = (async () => {
    for (let i = 0; !stop; i++) {
      if (revoked.length === 0) {
        await sleep(20)
        continue
      }
      const r = revoked[i % revoked.length] as Revoked
      const mode = FAILOVER_MODES[i % FAILOVER_MODES.length] as FailoverMode
      const start = Date.now()
      const status = await hit(base, mode, r.login, i)
      if (start <= r.returned + bound(mode)) continue
      modes[mode].revokedProbes++
      if (status === 200) modes[mode].revokedAccepted++
    }
  })()

  await sleep(opts.beforeMs)
  const killedAt = Date.now()
  await victim.kill()
  let fault: string
  if (topology.mode === 'standalone') {
    await sleep(opts.downMs ?? 1000)
    await victim.start()
    fault = `Redis killed (SIGKILL), started again ${opts.downMs ?? 1000} ms later (AOF)`
  } else {
    fault =
      topology.mode === 'cluster'
        ? 'the primary holding the revocation slot killed (SIGKILL); its replica promoted by the cluster'
        : 'the primary killed (SIGKILL); a replica promoted by the sentinels'
  }
  await topology.healthy(60_000)
  const recoveryMs = Date.now() - killedAt
  if (topology.mode !== 'standalone') {
    // As a supervisor (Kubernetes, systemd) would: the crashed node comes back, as a replica. Until
    // then a primary left without one refuses writes that must reach a replica (REDIS_WAIT_REPLICAS).
    await victim.start()
    await topology.healthy(60_000)
  }
  await cluster.waitUntilReady(60_000)
  await sleep(opts.afterMs)
  stop = true
  await Promise.all([...traffic, revoker, prober])

  for (const mode of FAILOVER_MODES) {
    const f = failed[mode]
    if (!f) continue
    modes[mode].errorWindowMs = f.last - f.first
    modes[mode].errorsFromMs = f.first - killedAt
    modes[mode].errorsUntilMs = f.last - killedAt
  }
  // Every revoked credential once more, now that everything is settled.
  for (const r of revoked) {
    for (const mode of FAILOVER_MODES) {
      modes[mode].revokedProbes++
      if ((await hit(base, mode, r.login, 0)) === 200) modes[mode].revokedAccepted++
    }
  }
  let sessionsLost = 0
  for (const l of live) if ((await hit(base, 'session', l, 0)) !== 200) sessionsLost++

  return {
    topology: topology.mode,
    fault,
    recoveryMs,
    sessionsBefore: live.length,
    sessionsOnKilledPrimary,
    sessionsLost,
    revocations,
    modes,
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN

/**
 * The cost of WAIT on a revocation write: the same writes through the same connection, WAIT off
 * and on, interleaved in blocks of 20 so drift hits both alike.
 */
async function waitCost(
  topology: RedisTopology,
  blocks: number,
): Promise<NonNullable<TopologyFailover['waitCost']>> {
  const env = topology.envFor('auth')
  const redis = createRedis({
    ...redisTopology({
      REDIS_URL: env.REDIS_URL ?? '',
      REDIS_MODE: topology.mode,
      REDIS_SENTINELS: env.REDIS_SENTINELS ?? '',
      REDIS_SENTINEL_NAME: env.REDIS_SENTINEL_NAME ?? 'authlab',
      REDIS_SENTINEL_PASSWORD: env.REDIS_SENTINEL_PASSWORD,
      REDIS_CLUSTER_NODES: env.REDIS_CLUSTER_NODES ?? '',
    }),
    commandTimeoutMs: 2000,
  })
  redis.on('error', () => {})
  await redisReady(redis, 10_000)
  const writers = [
    new RevocationWriter(redis),
    new RevocationWriter(redis, { waitReplicas: 1, waitTimeoutMs: 1000 }),
  ]
  const samples: [number[], number[]] = [[], []]
  try {
    for (let b = 0; b < blocks; b++) {
      for (const w of b % 2 === 0 ? [0, 1] : [1, 0]) {
        for (let i = 0; i < 20; i++) {
          const id = `wait-cost-${b}-${w}-${i}`
          const started = process.hrtime.bigint()
          await writers[w]!.revoke({
            entries: [{ kind: 'login', value: id, expiresAt: Date.now() + 60_000 }],
            sessionHashes: [id],
            watermark: 0,
          })
          samples[w]!.push(Number(process.hrtime.bigint() - started) / 1000)
        }
      }
    }
  } finally {
    redis.disconnect()
  }
  const wait0Us = median(samples[0])
  const wait1Us = median(samples[1])
  return { wait0Us, wait1Us, ratio: wait1Us / wait0Us }
}

/**
 * For each Redis topology, a cluster of 2 replicas per service: the cost of WAIT measured on its
 * servers, then its primary killed under load (runFailover). One cluster at a time.
 */
export async function measureTopologies(opts: {
  topologies: readonly RedisMode[]
  quick: boolean
  log: (line: string) => void
}): Promise<TopologyFailover[]> {
  const bounds = { sessionCacheTtlMs: 2000, pushedMaxStalenessMs: 2000 }
  const env = {
    ACCESS_TOKEN_TTL_S: '300',
    SESSION_CACHE_TTL_MS: String(bounds.sessionCacheTtlMs),
    PUSHED_MAX_STALENESS_MS: String(bounds.pushedMaxStalenessMs),
    LOG_LEVEL: 'warn',
    ...UNLIMITED_LOGINS_ENV,
  }
  const results: TopologyFailover[] = []
  for (const redisMode of opts.topologies) {
    opts.log(`failover, redis ${redisMode}: starting a cluster`)
    const cluster = await startCluster({ replicas: 2, port: 0, redisMode, env })
    try {
      const cost =
        redisMode === 'standalone' ? undefined : await waitCost(cluster.topology, opts.quick ? 4 : 20)
      opts.log(`failover, redis ${redisMode}: killing the primary under load`)
      const outcome = await runFailover(cluster, {
        beforeMs: opts.quick ? 1000 : 3000,
        afterMs: opts.quick ? 1000 : 3000,
        users: 12,
        bounds,
        run: `${redisMode}-${Date.now().toString(36)}`,
      })
      results.push({ ...outcome, ...(cost ? { waitCost: cost } : {}) })
    } finally {
      await cluster.close()
    }
  }
  return results
}
