import type { Results } from '../../results.ts'
import { f0, headlineRun, interval, MODES, pct, sameWindow } from '../format.ts'
import type { Block } from '../model.ts'

function machineLine(r: Results): string {
  const m = r.machine
  return (
    `Machine: ${m.cpus} CPUs (${m.cpuModel ?? '?'}), ${m.platform}, Node ${m.node}, Redis ${m.redis ?? '?'}, ` +
    `nginx ${m.nginx ?? '?'}, Postgres ${m.postgres ?? '?'}. Gateway: ${r.gateway}. ${m.pinning} ` +
    `Seed ${r.seed}${r.commit ? `, commit ${r.commit}` : ''}.`
  )
}

function revocationLine(r: Results): string | undefined {
  const rev = r.revocation
  if (Object.keys(rev).length === 0) return undefined
  const immediate = ['session', 'jwt-denylist', 'introspect'].filter((m) => rev[m]?.acceptedAfterRevoke === 0)
  const eventual = ['jwt-pushed', 'session-cached']
    .filter((m) => rev[m])
    .map((m) => `\`${m}\` ${f0(rev[m]!.windowMsMax)} ms at most`)
  return `Revocation: ${immediate.map((m) => `\`${m}\``).join(', ')} refused at once on every replica; ${eventual.join(', ')}; \`jwt\` until exp.`
}

function faultLines(r: Results): string[] {
  const out: string[] = []
  const faults = Object.values(r.faults).flatMap((byMode) => Object.values(byMode))
  if (faults.length)
    out.push(
      `Faults (${Object.keys(r.faults).join(', ')}): ${faults.reduce((n, f) => n + f.revokedAccepted, 0)} revoked credentials accepted afterwards, in every mode.`,
    )
  if (r.topologies?.length) {
    const accepted = r.topologies.reduce(
      (n, t) =>
        n + Object.entries(t.modes).reduce((k, [m, x]) => k + (m === 'jwt' ? 0 : x.revokedAccepted), 0),
      0,
    )
    const lost = r.topologies.reduce((n, t) => n + t.sessionsLost, 0)
    out.push(
      `Failover (${r.topologies.map((t) => t.topology).join(', ')}): ${accepted} revoked credentials accepted in the modes that must refuse them, ${lost} sessions lost.`,
    )
  }
  return out
}

/** The lines a reader takes away, derived from the figures: noise, cost, revocation, faults. */
export function summary(r: Results): string[] {
  const out: string[] = []
  const warm = headlineRun(r, 'warm')
  const paired = r.runs.filter((x) => x.tokenProfile === 'warm' && x.sameWindow)
  if (warm?.sameWindow) {
    out.push(
      `Noise floor (same window, \`none\` against itself, warm tokens): ${paired.map((x) => `±${pct(x.sameWindow!.noiseFloor)} at ${x.replicas} replica(s)`).join(', ')}; sequential windows ${interval(warm.aa?.totalCpu)} (±${pct(warm.noiseFloor?.totalCpu)}) at ${warm.replicas}.`,
    )
    const ranked = MODES.filter((m) => m !== 'none' && warm.modes[m]?.sameWindow)
    out.push(
      `Replica CPU per request vs \`none\`, same window (warm, ${warm.replicas} replicas): ${ranked.map((m) => `\`${m}\` ${sameWindow(warm.modes[m]!)}`).join(', ')}.`,
    )
  } else if (warm?.noiseFloor && warm.aa) {
    out.push(
      `Noise floor at ${warm.replicas} replicas (warm): the A/A control reads ${interval(warm.aa.totalCpu)} in CPU per request, so differences under ±${pct(warm.noiseFloor.totalCpu)} are not differences.`,
    )
  }
  const rev = revocationLine(r)
  if (rev) out.push(rev)
  return [...out, ...faultLines(r)]
}

export function header(r: Results): Block[] {
  const lines = summary(r)
  return [
    { kind: 'h1', text: `authlab bench: what each auth mode costs (${r.profile} profile, ${r.startedAt})` },
    { kind: 'p', text: machineLine(r) },
    ...(lines.length ? [{ kind: 'list' as const, items: lines }] : []),
    ...(r.skipped.length ? [{ kind: 'p' as const, text: `Skipped: ${r.skipped.join('; ')}.` }] : []),
  ]
}
