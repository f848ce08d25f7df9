import type { Cluster } from '@authlab/cluster'
import { EXPECTED_AFTER_REVOKE, headersFor, MODES, pathFor, SERVICES } from '../lib/scenarios.js'
import { type Login, login, logoutAll, type Mode } from './credentials.ts'
import type { FaultOutcome } from './results.ts'

export type { FaultOutcome } from './results.ts'

interface Scenario {
  name: string
  description: string
  break: (c: Cluster) => Promise<void>
  repair: (c: Cluster) => Promise<void>
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'redis-stopped',
    description: 'Redis stopped, then started again (AOF keeps its data)',
    break: (c) => c.redis.stop(),
    repair: (c) => c.redis.start(),
  },
  {
    name: 'redis-data-lost',
    description: 'Redis restarted with its data deleted',
    break: (c) => c.redis.restart({ wipeData: true }),
    repair: async () => {},
  },
  {
    name: 'replica-killed',
    description: 'one orders replica killed (SIGKILL), later restarted',
    break: (c) => c.replica('orders', 0).kill(),
    repair: (c) => c.replica('orders', 0).start(),
  },
  {
    name: 'auth-stopped',
    description: 'the auth service stopped, later started',
    break: (c) => c.auth.stop(),
    repair: (c) => c.auth.start(),
  },
]

async function hit(base: string, mode: Mode, who: Login, i: number): Promise<number> {
  try {
    const res = await fetch(`${base}${pathFor(SERVICES[i % SERVICES.length] as string, mode)}`, {
      headers: headersFor(mode, who),
    })
    await res.arrayBuffer()
    return res.status
  } catch {
    return 0
  }
}

/** Waits until a fresh login is accepted in every mode again, so scenarios do not overlap. */
async function recovered(base: string, run: string, deadlineMs = 20_000): Promise<void> {
  const until = Date.now() + deadlineMs
  while (Date.now() < until) {
    try {
      const who = await login(base, `recovery-${run}-${Date.now()}@example.test`)
      const statuses = await Promise.all(MODES.map((m, i) => hit(base, m as Mode, who, i)))
      if (statuses.every((s) => s === 200)) return
    } catch {}
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error('the cluster did not recover within 20 s')
}

/**
 * Steady traffic on every mode while each scenario breaks and repairs something; statuses counted
 * per mode. Afterwards, a credential revoked *before* the fault is tried on every mode that must
 * reject it: any 200 means a revocation was lost.
 */
export async function runFaults(
  cluster: Cluster,
  opts: { phaseMs: number; run: string; onScenario?: (name: string) => void; settleMs: number },
): Promise<Record<string, Record<string, FaultOutcome>>> {
  const base = cluster.url
  const results: Record<string, Record<string, FaultOutcome>> = {}
  for (const scenario of SCENARIOS) {
    opts.onScenario?.(scenario.name)
    await recovered(base, opts.run)
    const valid = await login(base, `fault-${opts.run}-${scenario.name}@example.test`)
    const revoked = await login(base, `fault-revoked-${opts.run}-${scenario.name}@example.test`)
    await logoutAll(base, revoked)
    const outcome: Record<string, FaultOutcome> = Object.fromEntries(
      MODES.map((m) => [m, { requests: 0, ok: 0, statusCounts: {}, revokedAccepted: 0 }]),
    )
    let stop = false
    const traffic = Promise.all(
      (MODES as readonly Mode[]).map(async (mode) => {
        for (let i = 0; !stop; i++) {
          const status = await hit(base, mode, valid, i)
          const o = outcome[mode]!
          o.requests++
          if (status === 200) o.ok++
          o.statusCounts[String(status)] = (o.statusCounts[String(status)] ?? 0) + 1
        }
      }),
    )
    await new Promise((r) => setTimeout(r, opts.phaseMs))
    await scenario.break(cluster)
    await new Promise((r) => setTimeout(r, opts.phaseMs))
    await scenario.repair(cluster)
    await new Promise((r) => setTimeout(r, opts.phaseMs))
    stop = true
    await traffic
    await new Promise((r) => setTimeout(r, opts.settleMs))
    for (const mode of MODES as readonly Mode[]) {
      if (EXPECTED_AFTER_REVOKE[mode] === 200) continue
      for (let i = 0; i < 12; i++)
        if ((await hit(base, mode, revoked, i)) === 200) outcome[mode]!.revokedAccepted++
    }
    results[scenario.name] = outcome
  }
  await recovered(base, opts.run)
  return results
}
