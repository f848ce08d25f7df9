import { EXPECTED_AFTER_REVOKE, headersFor, MODES, pathFor, SERVICES } from '../lib/scenarios.js'
import { type Login, login, logoutAll, type Mode } from './credentials.ts'
import type { RevocationSummary } from './results.ts'
import { percentile } from './stats.ts'

interface Sample {
  mode: Mode
  startedAt: number
  status: number
  replica: string
}

export type { RevocationSummary } from './results.ts'

async function steady(
  base: string,
  mode: Mode,
  who: Login,
  until: () => boolean,
  out: Sample[],
  lane: number,
) {
  for (let i = lane; !until(); i++) {
    const startedAt = Date.now()
    try {
      const res = await fetch(`${base}${pathFor(SERVICES[i % SERVICES.length] as string, mode)}`, {
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

/**
 * Trials of: fresh login → steady requests to every replica on every mode → logout-all → keep
 * going for `windowMs`. Per mode and trial, the window is how long after logout-all *returned* a
 * request could still start and be accepted, over all replicas.
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
  const windows = new Map<Mode, number[]>(modes.map((m) => [m, []]))
  const accepted = new Map<Mode, number>(modes.map((m) => [m, 0]))
  const seen = new Map<Mode, Set<string>>(modes.map((m) => [m, new Set()]))
  const acceptingReplicas = new Map<Mode, Set<string>>(modes.map((m) => [m, new Set()]))
  const byReplica = new Map<Mode, Map<string, number[]>>(modes.map((m) => [m, new Map()]))
  for (let trial = 0; trial < opts.trials; trial++) {
    opts.onTrial?.(trial)
    const who = await login(base, `revocation-${opts.run}-${trial}@example.test`)
    const samples: Sample[] = []
    let revokedAt = Number.POSITIVE_INFINITY
    const done = () => Date.now() > revokedAt + opts.windowMs
    const traffic = Promise.all(
      modes.flatMap((mode) =>
        Array.from({ length: opts.lanesPerMode }, (_, lane) => steady(base, mode, who, done, samples, lane)),
      ),
    )
    await new Promise((r) => setTimeout(r, 300)) // every replica has now seen (and cached) it
    await logoutAll(base, who)
    revokedAt = Date.now()
    await traffic
    for (const mode of modes) {
      let last = -1
      const lastByReplica = new Map<string, number>()
      for (const s of samples) {
        if (s.mode !== mode) continue
        seen.get(mode)!.add(s.replica)
        if (s.replica !== 'none') lastByReplica.set(s.replica, lastByReplica.get(s.replica) ?? 0)
        if (s.startedAt >= revokedAt && s.status === 200) {
          accepted.set(mode, accepted.get(mode)! + 1)
          acceptingReplicas.get(mode)!.add(s.replica)
          last = Math.max(last, s.startedAt - revokedAt)
          lastByReplica.set(s.replica, Math.max(lastByReplica.get(s.replica) ?? 0, s.startedAt - revokedAt))
        }
      }
      windows.get(mode)!.push(Math.max(0, last))
      const perReplica = byReplica.get(mode)!
      for (const [replica, ms] of lastByReplica)
        perReplica.set(replica, [...(perReplica.get(replica) ?? []), ms])
    }
  }
  return Object.fromEntries(
    modes.map((mode) => {
      const w = windows.get(mode)!
      return [
        mode,
        {
          windowMsP50: percentile(w, 50),
          windowMsP99: percentile(w, 99),
          windowMsMax: Math.max(0, ...w),
          acceptedAfterRevoke: accepted.get(mode)!,
          replicasSeen: seen.get(mode)!.size,
          replicasAcceptingAfterRevoke: acceptingReplicas.get(mode)!.size,
          trials: opts.trials,
          replicaWindowsMs: Object.fromEntries(byReplica.get(mode)!),
          censored: EXPECTED_AFTER_REVOKE[mode] === 200,
        },
      ]
    }),
  )
}
