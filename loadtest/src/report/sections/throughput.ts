import type { Results, Run } from '../../results.ts'
import { lineChart } from '../charts/lines.ts'
import { f0, f2, finite, interval, MODES } from '../format.ts'
import { type Block, chart } from '../model.ts'

function sweepTable(runs: Run[]): Block {
  return {
    kind: 'table',
    head: ['mode', ...runs.map((x) => `rps @${x.replicas}`), ...runs.map((x) => `p99 ms @${x.replicas}`)],
    rows: MODES.map((mode) => [
      `\`${mode}\``,
      ...runs.map((x) => interval(x.modes[mode]?.rpsInterval, f0)),
      ...runs.map((x) => f2(x.modes[mode]?.p99Ms)),
    ]),
  }
}

function profileBlocks(profile: 'warm' | 'cold', runs: Run[]): Block[] {
  const rate = runs.find((x) => finite(x.modes.none?.p99Ms)) ?? runs[0]!
  const xs = runs.map((x) => x.replicas)
  return [
    {
      kind: 'h2',
      text: `Throughput (saturation) and p99 latency at a fixed rate, vs replicas — ${profile} tokens`,
    },
    {
      kind: 'p',
      text: `Saturation: ${runs[0]!.generator}, median [95 % CI] over repetitions; latency: ${rate.latencyGenerator} at ${f0(rate.modes.none?.latencyRate)} req/s (half the slowest mode's saturation rate). – = not measured at that count.`,
    },
    ...chart(
      `throughput-${profile}`,
      `Saturation throughput vs replicas — ${profile} tokens`,
      'Requests per second through the gateway at saturation: on a small machine the load generator and nginx often saturate first, so modes that cost the replicas more can still read alike here.',
      lineChart(
        'replicas per service',
        'req/s',
        xs,
        MODES.map((m) => ({ name: m, values: runs.map((x) => x.modes[m]?.rps) })),
      ),
    ),
    ...chart(
      `p99-${profile}`,
      `p99 latency at a fixed rate vs replicas — ${profile} tokens`,
      'Tail latency below saturation: what one more round trip (Redis, auth) adds to a request a user waits for.',
      lineChart(
        'replicas per service',
        'p99 ms',
        xs,
        MODES.map((m) => ({ name: m, values: runs.map((x) => x.modes[m]?.p99Ms) })),
      ),
    ),
    sweepTable(runs),
  ]
}

export function throughput(r: Results): Block[] {
  return (['warm', 'cold'] as const).flatMap((profile) => {
    const runs = r.runs.filter((x) => x.tokenProfile === profile).sort((a, b) => a.replicas - b.replicas)
    return runs.length ? profileBlocks(profile, runs) : []
  })
}
