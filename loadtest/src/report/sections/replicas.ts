import type { Results, Run } from '../../results.ts'
import {
  coreThroughput,
  f1,
  f2,
  interval,
  MODES,
  pct,
  sameWindow,
  total,
  vsNone,
  wakeups,
} from '../format.ts'
import type { Block } from '../model.ts'

const warmRuns = (r: Results) =>
  r.runs.filter((x) => x.tokenProfile === 'warm').sort((a, b) => a.replicas - b.replicas)

function totalVsReplicas(runs: Run[]): Block[] {
  if (runs.length < 2) return []
  const cell = (x: Run, mode: (typeof MODES)[number]) =>
    x.modes[mode]
      ? `${f1(total(x.modes[mode]!))} (${mode === 'none' ? '1.00×' : vsNone(x.modes[mode]!, 'totalCpu')})`
      : '–'
  return [
    { kind: 'h3', text: 'Total CPU per request vs replicas (warm tokens)' },
    {
      kind: 'p',
      text: "Each cell: total µs per request, and its ratio to `none` of the same run with its 95 % interval. Read it for how a mode's cost moves as replicas share the machine.",
    },
    {
      kind: 'table',
      head: ['mode', ...runs.map((x) => `@${x.replicas}`), ...runs.map((x) => `noise floor @${x.replicas}`)],
      rows: MODES.map((mode) => [
        `\`${mode}\``,
        ...runs.map((x) => cell(x, mode)),
        ...runs.map((x) => (x.noiseFloor ? `±${pct(x.noiseFloor.totalCpu)}` : '–')),
      ]),
    },
  ]
}

function sameWindowVsReplicas(runs: Run[]): Block[] {
  if (runs.length < 2) return []
  return [
    { kind: 'h3', text: 'Replica CPU per request vs `none`, same window, vs replicas (warm tokens)' },
    {
      kind: 'p',
      text: "The same-window ratio at each replica count, with the A/A control's floor in the last row.",
    },
    {
      kind: 'table',
      head: ['mode', ...runs.map((x) => `@${x.replicas}`)],
      rows: [
        ...MODES.filter((m) => m !== 'none').map((mode) => [
          `\`${mode}\``,
          ...runs.map((x) => (x.modes[mode] ? sameWindow(x.modes[mode]!) : '–')),
        ]),
        [
          'A/A (`none` on both sides)',
          ...runs.map((x) => `${interval(x.sameWindow!.aa)} (±${pct(x.sameWindow!.noiseFloor)})`),
        ],
      ],
    },
  ]
}

function coreCapacity(runs: Run[]): Block[] {
  if (runs.length === 0) return []
  return [
    {
      kind: 'h3',
      text: 'Server-core capacity and event-loop wake-ups at shared load, same window (warm tokens)',
    },
    {
      kind: 'p',
      text: "Capacity vs `none`: the inverse of the server core's CPU per request at that shared load. Wake-ups: the replicas' event-loop context switches per request, the mode's against `none`'s (see docs/benchmarking.md).",
    },
    {
      kind: 'table',
      head: [
        'mode',
        ...runs.flatMap((x) => [
          `@${x.replicas} capacity vs \`none\``,
          `@${x.replicas} wake-ups / request (mode / \`none\`)`,
        ]),
      ],
      rows: [
        ...MODES.filter((m) => m !== 'none').map((mode) => [
          `\`${mode}\``,
          ...runs.flatMap((x) =>
            x.modes[mode] ? [coreThroughput(x.modes[mode]!), wakeups(x.modes[mode]!)] : ['–', '–'],
          ),
        ]),
        [
          'A/A (`none` on both sides)',
          ...runs.flatMap((x) => [
            `${f2(1 / x.sameWindow!.serverAa!.median)}× (±${pct(x.sameWindow!.serverNoiseFloor)})`,
            '–',
          ]),
        ],
      ],
    },
  ]
}

export function replicas(r: Results): Block[] {
  const runs = warmRuns(r)
  const paired = runs.filter((x) => x.sameWindow)
  return [
    ...totalVsReplicas(runs),
    ...sameWindowVsReplicas(paired),
    ...coreCapacity(paired.filter((x) => x.sameWindow?.serverAa)),
  ]
}
