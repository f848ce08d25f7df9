import type { Results } from '../../results.ts'
import { percentile } from '../../stats.ts'
import { type TradeoffPoint, tradeoffChart } from '../charts/tradeoff.ts'
import { decisionRun, finite, modesOf } from '../format.ts'
import { type Block, chart } from '../model.ts'

/** The access-token lifetime the bench ran with: how long `jwt` accepts a revoked token. */
const tokenLifetimeMs = (r: Results) => Number(r.settings.accessTokenTtlS) * 1000

function points(r: Results): TradeoffPoint[] {
  const run = decisionRun(r)
  if (!run) return []
  return modesOf(run).flatMap((mode) => {
    const cpu = run.modes[mode]!.sameWindow?.replicaCpu
    const rev = r.revocation[mode]
    if (!cpu || !finite(cpu.median) || !rev) return []
    const untilExp = rev.censored
    const windowMs = untilExp && finite(tokenLifetimeMs(r)) ? tokenLifetimeMs(r) : rev.windowMsP99
    const replicaWindowsMs = untilExp
      ? []
      : Object.values(rev.replicaWindowsMs ?? {}).map((trials) => percentile(trials, 99))
    return [{ mode, windowMs, replicaWindowsMs, cpu, untilExp }]
  })
}

export const TRADEOFF_CAPTION =
  'Each mode is a point: how long a revoked credential kept working (p99 over trials after logout-all; faint dots: each replica; `jwt`: the token lifetime) against what the mode costs a replica per request, relative to `none` in the same windows, with its 95 % interval. Down and left is better; inside the grey A/A band a difference is noise.'

export function tradeoffSvg(r: Results): string | undefined {
  const run = decisionRun(r)
  return tradeoffChart(points(r), run?.sameWindow?.noiseFloor ?? 0)
}

export function tradeoff(r: Results): Block[] {
  return [
    { kind: 'h2', text: 'The trade-off: cost per request against revocation window' },
    ...chart(
      'tradeoff',
      'Replica CPU per request vs revocation window, per mode',
      TRADEOFF_CAPTION,
      tradeoffSvg(r),
    ),
  ]
}
