import type { Cluster } from '@authlab/cluster'
import { hashSessionId, keys } from '@authlab/revocation'
import { headersFor, MODES, pathFor, SERVICES } from '../lib/scenarios.js'
import { type Login, login, type Mode } from './credentials.ts'

type FailoverMode = Exclude<Mode, 'none'>
/** The modes a failover can hurt: every one that reads shared state, and `jwt` as the control. */
export const FAILOVER_MODES = MODES.filter((m): m is FailoverMode => m !== 'none')

export interface FailoverModeOutcome {
  requests: number
  /** Live credentials refused or failed (any status but 200). */
  errors: number
  /** From the start of the first failed request to the end of the last one; 0 with none. */
  errorWindowMs: number
  /** When the first failed request started and the last one ended, ms after the kill (absent with none). */
  errorsFromMs?: number
  errorsUntilMs?: number
  /** Requests with a revoked credential, started after its revocation returned plus the mode's bound. */
  revokedProbes: number
  /** Of those, how many were accepted: must be 0 in every mode but `jwt`. */
  revokedAccepted: number
}

export interface FailoverOutcome {
  topology: 'standalone' | 'sentinel' | 'cluster'
  /** What was killed and how the topology recovered. */
  fault: string
  /** From the kill until the topology had a primary for every slot again (a restart, standalone). */
  recoveryMs: number
  /** Logins made before the fault, whose sessions are checked afterwards. */
  sessionsBefore: number
  /** How many of them were on the killed primary. */
  sessionsOnKilledPrimary: number
  /** How many of them the `session` mode refused after the recovery. */
  sessionsLost: number
  /** Logouts sent during the run, and how many were acknowledged (204); the rest failed visibly. */
  revocations: { attempted: number; acknowledged: number }
  modes: Record<FailoverMode, FailoverModeOutcome>
}

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
