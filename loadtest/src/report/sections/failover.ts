import type { Results, TopologyFailover } from '../../results.ts'
import { f0, f2, MODES } from '../format.ts'
import type { Block } from '../model.ts'

const seconds = (ms: number) => (ms / 1000).toFixed(1)

function modeCell(t: TopologyFailover, mode: string): string {
  const x = t.modes[mode]
  if (!x) return '–'
  // A request sent just before the kill can fail: its start is shown as 0.
  const when =
    x.errorsFromMs === undefined
      ? 'no error'
      : `${seconds(Math.max(0, x.errorsFromMs))}–${seconds(x.errorsUntilMs ?? 0)} s`
  return `${when} (${x.errors}/${x.requests}); revoked accepted ${x.revokedAccepted}/${x.revokedProbes}`
}

function summaryRows(runs: readonly TopologyFailover[]): string[][] {
  return [
    ['Redis back after', ...runs.map((t) => `${seconds(t.recoveryMs)} s`)],
    [
      'sessions lost',
      ...runs.map(
        (t) =>
          `${t.sessionsLost} of ${t.sessionsBefore} (${t.sessionsOnKilledPrimary} on the killed primary)`,
      ),
    ],
    [
      'logouts during the run',
      ...runs.map((t) => `${t.revocations.acknowledged} of ${t.revocations.attempted} acknowledged`),
    ],
    [
      'revocation write with WAIT 1',
      ...runs.map((t) =>
        t.waitCost
          ? `${f2(t.waitCost.ratio)}× (${f0(t.waitCost.wait0Us)} → ${f0(t.waitCost.wait1Us)} µs median)`
          : 'no replica: no WAIT',
      ),
    ],
  ]
}

/** Each Redis topology's primary killed under load. */
export function topologyBlocks(runs: readonly TopologyFailover[]): Block[] {
  const modes = MODES.filter((m) => runs.some((t) => t.modes[m]))
  return [
    {
      kind: 'h2',
      text: 'Failover: the primary holding the revocation keys killed under load, per Redis topology',
    },
    {
      kind: 'p',
      text: "Per mode: when live credentials were refused, from the first failed request to the last, in seconds after the kill (errors / requests); and how many requests with an already revoked credential, started after the mode's bound, were accepted before, during or after.",
    },
    {
      kind: 'table',
      head: ['mode', ...runs.map((t) => t.topology)],
      rows: [...modes.map((m) => [`\`${m}\``, ...runs.map((t) => modeCell(t, m))]), ...summaryRows(runs)],
    },
    { kind: 'list', items: runs.map((t) => `${t.topology}: ${t.fault}.`) },
  ]
}

export function failover(r: Results): Block[] {
  return r.topologies?.length ? topologyBlocks(r.topologies) : []
}
