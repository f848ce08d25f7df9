import { EXPECTED_AFTER_REVOKE, headersFor, MODES, pathFor, SERVICES } from '../lib/scenarios.js'
import { type Login, login, logoutAll, type Mode, setRoles } from './credentials.ts'
import type { RevocationSummary } from './results.ts'
import { percentile } from './stats.ts'

interface Sample {
  mode: Mode
  startedAt: number
  status: number
  replica: string
}

export type { RevocationSummary } from './results.ts'

/** What is probed: `/me` (any valid credential) or `/admin` (one that carries the admin role). */
type Route = 'me' | 'admin'

const routePath = (service: string, mode: Mode, route: Route) =>
  route === 'me' ? pathFor(service, mode) : pathFor(service, mode).replace(/\/me$/, '/admin')

async function steady(
  base: string,
  mode: Mode,
  who: Login,
  until: () => boolean,
  out: Sample[],
  lane: number,
  route: Route,
) {
  for (let i = lane; !until(); i++) {
    const startedAt = Date.now()
    try {
      const res = await fetch(`${base}${routePath(SERVICES[i % SERVICES.length] as string, mode, route)}`, {
        headers: headersFor(mode, who),
      })
      await res.arrayBuffer()
      out.push({
        mode,
        startedAt,
        status: res.status,
        replica: `${SERVICES[i % SERVICES.length]}:${res.headers.get('x-replica')}`,
      })
    } catch {
      out.push({ mode, startedAt, status: 0, replica: 'none' })
    }
  }
}

/** What the probe gathers per mode, over every trial. */
interface Tally {
  windows: number[]
  accepted: number
  seen: Set<string>
  accepting: Set<string>
  byReplica: Map<string, number[]>
}

const tally = (): Tally => ({
  windows: [],
  accepted: 0,
  seen: new Set(),
  accepting: new Set(),
  byReplica: new Map(),
})

/**
 * One trial: steady requests from `who` to every replica on every mode, then `act` (logout-all, a
 * role change), more requests for `windowMs` after it returned.
 */
async function trial(
  base: string,
  modes: Mode[],
  plan: { who: Login; route: Route; act: () => Promise<void> },
  opts: { windowMs: number; lanesPerMode: number },
) {
  const { who, route } = plan
  const samples: Sample[] = []
  let revokedAt = Number.POSITIVE_INFINITY
  const done = () => Date.now() > revokedAt + opts.windowMs
  const traffic = Promise.all(
    modes.flatMap((mode) =>
      Array.from({ length: opts.lanesPerMode }, (_, lane) =>
        steady(base, mode, who, done, samples, lane, route),
      ),
    ),
  )
  await new Promise((r) => setTimeout(r, 300)) // every replica has now seen (and cached) it
  await plan.act()
  revokedAt = Date.now()
  await traffic
  return { samples, revokedAt }
}

/** Adds one trial's samples of `mode` to its tally: the window over all replicas and per replica. */
function count(t: Tally, mode: Mode, samples: Sample[], revokedAt: number): void {
  let last = -1
  const lastByReplica = new Map<string, number>()
  for (const s of samples) {
    if (s.mode !== mode) continue
    // An answer without x-replica came from the gateway itself (phantom's refusals): no replica.
    const named = !s.replica.endsWith(':null') && s.replica !== 'none'
    if (named) t.seen.add(s.replica)
    if (named) lastByReplica.set(s.replica, lastByReplica.get(s.replica) ?? 0)
    if (s.startedAt >= revokedAt && s.status === 200) {
      t.accepted++
      t.accepting.add(s.replica)
      last = Math.max(last, s.startedAt - revokedAt)
      lastByReplica.set(s.replica, Math.max(lastByReplica.get(s.replica) ?? 0, s.startedAt - revokedAt))
    }
  }
  t.windows.push(Math.max(0, last))
  for (const [replica, ms] of lastByReplica)
    t.byReplica.set(replica, [...(t.byReplica.get(replica) ?? []), ms])
}

function summarise(mode: Mode, t: Tally, trials: number): RevocationSummary {
  return {
    windowMsP50: percentile(t.windows, 50),
    windowMsP99: percentile(t.windows, 99),
    windowMsMax: Math.max(0, ...t.windows),
    acceptedAfterRevoke: t.accepted,
    replicasSeen: t.seen.size,
    replicasAcceptingAfterRevoke: t.accepting.size,
    trials,
    replicaWindowsMs: Object.fromEntries(t.byReplica),
    censored: EXPECTED_AFTER_REVOKE[mode] === 200,
  }
}

/**
 * Trials of: fresh login → steady requests to every replica on every mode → logout-all → keep
 * going for `windowMs`. Per mode and trial, the window is how long after logout-all *returned* a
 * request could still start and be accepted, over all replicas and on each.
 */
export async function revocationProbe(
  base: string,
  opts: {
    trials: number
    windowMs: number
    lanesPerMode: number
    run: string
    onTrial?: (i: number) => void
  },
): Promise<Record<string, RevocationSummary>> {
  const modes = MODES.filter((m) => m !== 'none') as Mode[]
  const tallies = new Map(modes.map((m) => [m, tally()]))
  for (let i = 0; i < opts.trials; i++) {
    opts.onTrial?.(i)
    const who = await login(base, `revocation-${opts.run}-${i}@example.test`)
    const plan = { who, route: 'me' as const, act: () => logoutAll(base, who) }
    const { samples, revokedAt } = await trial(base, modes, plan, opts)
    for (const mode of modes) count(tallies.get(mode)!, mode, samples, revokedAt)
  }
  return Object.fromEntries(modes.map((mode) => [mode, summarise(mode, tallies.get(mode)!, opts.trials)]))
}

/**
 * Trials of: a fresh user made admin by `admin`, logged in → steady requests to `/admin` on every
 * replica and mode → the admin withdraws the role → keep going for `windowMs`. Per mode and trial,
 * the window is how long after the change returned a request could still start and be granted
 * with the old role. The user is never logged out: the token modes refuse the older token (401)
 * until a refresh, the session modes answer 403 once they see the new roles.
 */
export async function permissionProbe(
  base: string,
  opts: {
    trials: number
    windowMs: number
    lanesPerMode: number
    run: string
    /** a fresh login of a user who holds the admin role (asked once per trial: tokens expire) */
    admin: () => Promise<Login>
    onTrial?: (i: number) => void
  },
): Promise<Record<string, RevocationSummary>> {
  const modes = MODES.filter((m) => m !== 'none') as Mode[]
  const tallies = new Map(modes.map((m) => [m, tally()]))
  for (let i = 0; i < opts.trials; i++) {
    opts.onTrial?.(i)
    const email = `permission-${opts.run}-${i}@example.test`
    const [user, admin] = [await login(base, email), await opts.admin()]
    await setRoles(base, admin, user.user.id, ['admin'])
    // Logged in again after the grant: this login's token and session carry the role.
    const who = await login(base, email)
    const plan = { who, route: 'admin' as const, act: () => setRoles(base, admin, user.user.id, []) }
    const { samples, revokedAt } = await trial(base, modes, plan, opts)
    for (const mode of modes) count(tallies.get(mode)!, mode, samples, revokedAt)
  }
  return Object.fromEntries(modes.map((mode) => [mode, summarise(mode, tallies.get(mode)!, opts.trials)]))
}
