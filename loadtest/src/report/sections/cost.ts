import type { Results, Run } from '../../results.ts'
import { stackedBars } from '../charts/bars.ts'
import { f0, f1, f2, headlineRun, modesOf, noiseLine, sameWindow, total, vsNone } from '../format.ts'
import { type Block, chart } from '../model.ts'

/** Every tier's CPU per request, and throughput, against `none`. */
export function costTableBlock(run: Run): Block {
  const paired = run.sameWindow !== undefined
  return {
    kind: 'table',
    head: [
      'mode',
      ...(paired ? ['replica CPU vs none, same window (95 % CI)'] : []),
      'replica CPU µs',
      'nginx CPU µs',
      'Redis CPU µs',
      'auth CPU µs',
      'total µs',
      'total vs none (95 % CI)',
      'Redis cmds/req',
      'rps',
      'rps vs none (95 % CI)',
    ],
    rows: modesOf(run).map((mode) => {
      const m = run.modes[mode]!
      return [
        `\`${mode}\``,
        ...(paired ? [mode === 'none' ? '1.00×' : sameWindow(m)] : []),
        f1(m.replicaCpuUsPerRequest),
        f1(m.nginxCpuUsPerRequest),
        f1(m.redisCpuUsPerRequest),
        f1(m.authCpuUsPerRequest),
        f1(total(m)),
        mode === 'none' ? '1.00×' : vsNone(m, 'totalCpu'),
        f2(m.redisCommandsPerRequest),
        f0(m.rps),
        mode === 'none' ? '1.00×' : vsNone(m, 'rps'),
      ]
    }),
  }
}

function tierChart(run: Run): Block[] {
  const svg = stackedBars(
    'CPU µs per request (median of the repetitions)',
    modesOf(run).map((m) => ({
      label: m,
      parts: [
        { name: 'replicas', value: run.modes[m]!.replicaCpuUsPerRequest },
        { name: 'nginx', value: run.modes[m]!.nginxCpuUsPerRequest },
        { name: 'Redis', value: run.modes[m]!.redisCpuUsPerRequest },
        { name: 'auth', value: run.modes[m]!.authCpuUsPerRequest },
      ],
    })),
  )
  return chart(
    `cpu-by-tier-${run.replicas}`,
    `CPU per request by tier — ${run.replicas} replicas, ${run.tokenProfile} tokens`,
    'Where each mode spends its CPU: a longer bar is a dearer request, and its colours say which tier pays (introspect moves the work to auth; the Redis modes add Redis and a second wake-up of the replica).',
    svg,
  )
}

function commandsChart(run: Run): Block[] {
  const svg = stackedBars(
    'Redis commands per request (idle rate subtracted)',
    modesOf(run).map((m) => ({
      label: m,
      parts: [{ name: 'commands', value: run.modes[m]!.redisCommandsPerRequest }],
      note: f2(run.modes[m]!.redisCommandsPerRequest),
    })),
    (n) => n.toFixed(2),
  )
  return chart(
    'redis-commands',
    'Redis commands per request',
    'The shared state each mode touches per request: what a shared Redis must serve as traffic grows.',
    svg,
  )
}

export function cost(r: Results): Block[] {
  const head = headlineRun(r)
  if (!head) return []
  const noise = noiseLine(head)
  return [
    {
      kind: 'h2',
      text: `Cost per request, by tier (${head.replicas} replicas, ${head.tokenProfile} tokens, ${head.algorithm})`,
    },
    ...tierChart(head),
    ...(noise ? [{ kind: 'p' as const, text: noise }] : []),
    costTableBlock(head),
    ...commandsChart(head),
  ]
}

export function cold(r: Results): Block[] {
  const run = headlineRun(r, 'cold')
  if (!run) return []
  const noise = noiseLine(run)
  return [
    { kind: 'h3', text: `Cold tokens (${run.replicas} replicas)` },
    ...(noise ? [{ kind: 'p' as const, text: noise }] : []),
    costTableBlock(run),
  ]
}
