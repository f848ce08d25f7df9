import type { FaultOutcome, Results } from '../../results.ts'
import { stackedBars } from '../charts/bars.ts'
import { f0, MODES } from '../format.ts'
import { type Block, chart } from '../model.ts'

const count = (o: FaultOutcome, is: (code: string) => boolean) =>
  Object.entries(o.statusCounts).reduce((n, [c, k]) => n + (is(c) ? k : 0), 0)

function scenarioChart(scenario: string, byMode: Record<string, FaultOutcome>): Block[] {
  const svg = stackedBars(
    'requests (count)',
    MODES.filter((m) => byMode[m]).map((m) => {
      const o = byMode[m]!
      return {
        label: m,
        parts: [
          { name: '200', value: count(o, (c) => c === '200') },
          { name: '401', value: count(o, (c) => c === '401') },
          { name: '503', value: count(o, (c) => c === '503') },
          { name: 'other', value: count(o, (c) => !['200', '401', '503'].includes(c)) },
        ],
        note: `${o.ok}/${o.requests} ok`,
      }
    }),
    (n) => f0(n),
  )
  return chart(
    `fault-${scenario}`,
    `Fault: ${scenario} — answers per mode while it lasted`,
    'Which modes kept answering live credentials (200) and which failed closed (503) while the fault lasted; no mode may answer 200 to a revoked credential afterwards.',
    svg,
  )
}

function cell(o: FaultOutcome | undefined): string {
  if (!o) return '–'
  const codes = Object.entries(o.statusCounts)
    .filter(([c]) => c !== '200')
    .map(([c, n]) => `${c}×${n}`)
    .join(' ')
  return `${o.ok}/${o.requests} ok${codes ? ` ${codes}` : ''}${o.revokedAccepted ? ` **${o.revokedAccepted} revoked accepted**` : ''}`
}

export function faults(r: Results): Block[] {
  const scenarios = Object.keys(r.faults)
  if (scenarios.length === 0) return []
  return [
    {
      kind: 'h2',
      text: 'Faults: answers while each fault lasted, and revoked credentials accepted afterwards',
    },
    ...scenarios.flatMap((s) => scenarioChart(s, r.faults[s]!)),
    {
      kind: 'table',
      head: ['mode', ...scenarios],
      rows: MODES.map((mode) => [`\`${mode}\``, ...scenarios.map((s) => cell(r.faults[s]?.[mode]))]),
    },
  ]
}
