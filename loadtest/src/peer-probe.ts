// What the tutorial code (the textbook peer) does after a logout and after a "logout-all", on every
// replica, timed like the revocation probe: steady requests with each credential, the action, then
// more requests for a window after it returned. authlab's own credentials for the same user ride in
// the logout-all trial for contrast.
import { headersFor, pathFor, SERVICES } from '../lib/scenarios.js'
import { logoutAll as authlabLogoutAll, login } from './credentials.ts'
import type { PeerProbe, RevocationSummary } from './results.ts'
import { percentile } from './stats.ts'
import { peerHeaders, peerPath, type TextbookLogin, textbookLogin, textbookLogout } from './textbook.ts'

/** One credential under watch: its name in the results, where it is sent, and how. */
interface Lane {
  name: string
  paths: string[]
  headers: Record<string, string>
  /** expected to keep working after the action (the tutorial has nothing that could stop it) */
  survives: boolean
}

interface Sample {
  name: string
  startedAt: number
  status: number
  replica: string
}

async function steady(base: string, lane: Lane, start: number, until: () => boolean, out: Sample[]) {
  for (let i = start; !until(); i++) {
    const path = lane.paths[i % lane.paths.length]!
    const startedAt = Date.now()
    try {
      const res = await fetch(`${base}${path}`, { headers: lane.headers })
      await res.arrayBuffer()
      const replica = `${path.split('/')[1]}:${res.headers.get('x-replica')}`
      out.push({ name: lane.name, startedAt, status: res.status, replica })
    } catch {
      out.push({ name: lane.name, startedAt, status: 0, replica: 'none' })
    }
  }
}

/** Steady requests on every lane, `act`, then `windowMs` more; the samples and when `act` returned. */
async function trial(base: string, lanes: Lane[], act: () => Promise<void>, windowMs: number) {
  const samples: Sample[] = []
  let actedAt = Number.POSITIVE_INFINITY
  const done = () => Date.now() > actedAt + windowMs
  const traffic = Promise.all(
    lanes.flatMap((lane) => [0, 1].map((start) => steady(base, lane, start, done, samples))),
  )
  await new Promise((r) => setTimeout(r, 300)) // every replica has now answered each credential
  for (const lane of lanes)
    if (!samples.some((s) => s.name === lane.name && s.status === 200))
      throw new Error(
        `peer probe: ${lane.name} was never accepted before the action; the trial proves nothing`,
      )
  await act()
  actedAt = Date.now()
  await traffic
  return { samples, actedAt }
}

interface Tally {
  windows: number[]
  accepted: number
  seen: Set<string>
  accepting: Set<string>
}

/** Adds one trial's samples of a lane to its tally, as the revocation probe counts a mode. */
function count(t: Tally, name: string, samples: Sample[], actedAt: number): void {
  let last = -1
  for (const s of samples) {
    if (s.name !== name) continue
    if (s.replica !== 'none') t.seen.add(s.replica)
    if (s.startedAt >= actedAt && s.status === 200) {
      t.accepted++
      t.accepting.add(s.replica)
      last = Math.max(last, s.startedAt - actedAt)
    }
  }
  t.windows.push(Math.max(0, last))
}

function summarise(t: Tally, trials: number, survives: boolean): RevocationSummary {
  return {
    windowMsP50: percentile(t.windows, 50),
    windowMsP99: percentile(t.windows, 99),
    windowMsMax: Math.max(0, ...t.windows),
    acceptedAfterRevoke: t.accepted,
    replicasSeen: t.seen.size,
    replicasAcceptingAfterRevoke: t.accepting.size,
    trials,
    censored: survives,
  }
}

/** Trials of one plan (fresh credentials, lanes, the action), tallied per lane. */
async function probe(
  base: string,
  trials: number,
  windowMs: number,
  plan: (i: number) => Promise<{ lanes: Lane[]; act: () => Promise<void> }>,
): Promise<Record<string, RevocationSummary>> {
  const tallies = new Map<string, { t: Tally; survives: boolean }>()
  for (let i = 0; i < trials; i++) {
    const { lanes, act } = await plan(i)
    const { samples, actedAt } = await trial(base, lanes, act, windowMs)
    for (const lane of lanes) {
      const entry = tallies.get(lane.name) ?? {
        t: { windows: [], accepted: 0, seen: new Set<string>(), accepting: new Set<string>() },
        survives: lane.survives,
      }
      tallies.set(lane.name, entry)
      count(entry.t, lane.name, samples, actedAt)
    }
  }
  return Object.fromEntries([...tallies].map(([name, e]) => [name, summarise(e.t, trials, e.survives)]))
}

const sessionLane = (name: string, l: TextbookLogin, survives: boolean): Lane => ({
  name,
  paths: [peerPath('textbook-session')],
  headers: peerHeaders('textbook-session', l),
  survives,
})
const jwtLane = (name: string, l: TextbookLogin): Lane => ({
  name,
  paths: [peerPath('textbook-jwt')],
  headers: peerHeaders('textbook-jwt', l),
  survives: true,
})
/** authlab's own mode for the same user, on both services. */
const authlabLane = (mode: 'session' | 'jwt-denylist', l: Parameters<typeof headersFor>[1]): Lane => ({
  name: `authlab-${mode}`,
  paths: SERVICES.map((s) => pathFor(s, mode)),
  headers: headersFor(mode, l),
  survives: false,
})

/**
 * (a) one textbook login, then POST /textbook/logout: its session ends, its JWT does not; (b) two
 * textbook logins of one user, then authlab's logout-all for that user (the only logout-all there
 * is) and the textbook logout of the first: nothing indexes a user's textbook sessions or tokens.
 */
export async function peerProbe(
  base: string,
  opts: { trials: number; windowMs: number; replicas: number; run: string; onTrial?: (what: string) => void },
): Promise<PeerProbe> {
  const email = (what: string, i: number) => `peer-${what}-${opts.run}-${i}@example.test`
  const logout = await probe(base, opts.trials, opts.windowMs, async (i) => {
    opts.onTrial?.(`logout ${i + 1}/${opts.trials}`)
    await login(base, email('logout', i)) // registers the user textbook checks the password of
    const one = await textbookLogin(base, email('logout', i))
    const lanes = [sessionLane('textbook-session', one, false), jwtLane('textbook-jwt', one)]
    return { lanes, act: () => textbookLogout(base, one) }
  })
  const logoutAll = await probe(base, opts.trials, opts.windowMs, async (i) => {
    opts.onTrial?.(`logout-all ${i + 1}/${opts.trials}`)
    const authlab = await login(base, email('all', i))
    const first = await textbookLogin(base, email('all', i))
    const other = await textbookLogin(base, email('all', i))
    const lanes = [
      sessionLane('other-session', other, true),
      jwtLane('other-jwt', other),
      sessionLane('logged-out-session', first, false),
      jwtLane('logged-out-jwt', first),
      authlabLane('session', authlab),
      authlabLane('jwt-denylist', authlab),
    ]
    const act = async () => {
      await authlabLogoutAll(base, authlab)
      await textbookLogout(base, first)
    }
    return { lanes, act }
  })
  return { replicas: opts.replicas, trials: opts.trials, windowMs: opts.windowMs, logout, logoutAll }
}
