// Replica CPU per request against `none`, both measured in the same window (see
// measureSameWindow): the mode on one service, `none` on the other, one generator alternating. A
// peer row (the textbook baseline) is answered by its peer's replicas, against `none` on a service.
import type { Cluster } from '@authlab/cluster'
import { SERVICES } from '../../lib/scenarios.js'
import { servicePool } from '../credentials.ts'
import type { LoadResult, PooledRequest } from '../load.ts'
import { CONNECTIONS } from '../profiles.ts'
import { measureSameWindow, type SameWindow, type WindowReading } from '../repetitions.ts'
import { isPeerRow, PEER_SERVICE, type Row, rowPool } from '../textbook.ts'
import type { BenchContext } from './context.ts'
import type { Cell } from './sweep.ts'

/** Per-process counters (CPU ms, context switches) read around a window. */
interface Counters {
  cpu: Record<string, number>
  switches: Record<string, number>
}

/** Which service carries the mode and which `none`, and how many of their replicas are active. */
interface Sides {
  modeService: string
  noneService: string
  replicas: number
}

/** Growth of a counter summed over one service's (or peer's) active replicas. */
function serviceDelta(
  cluster: Cluster,
  service: string,
  replicas: number,
  from: Record<string, number>,
  to: Record<string, number>,
): number {
  return (cluster.replicas.get(service) ?? cluster.peers.get(service) ?? [])
    .slice(0, replicas)
    .reduce((total, p) => total + (to[p.replica] ?? 0) - (from[p.replica] ?? 0), 0)
}

function reading(
  cluster: Cluster,
  sides: Sides,
  before: Counters,
  after: Counters,
  result: LoadResult,
): WindowReading {
  const sum = (service: string, counter: keyof Counters) =>
    serviceDelta(cluster, service, sides.replicas, before[counter], after[counter])
  const delta = (name: string) => (after.cpu[name] ?? 0) - (before.cpu[name] ?? 0)
  const modeCpu = sum(sides.modeService, 'cpu')
  const noneCpu = sum(sides.noneService, 'cpu')
  // Only the mode's requests reach Redis, auth and Postgres; both sides pass nginx alike. In the
  // A/A slot, their background (readiness polls) lands on one side, which the A/A control then shows.
  const backing = delta('redis') + delta('auth') + delta('postgres')
  const perSide = result.ok / 2
  return {
    replicaCpu: modeCpu / noneCpu,
    serverCpu: (modeCpu + backing + delta('nginx') / 2) / (noneCpu + delta('nginx') / 2),
    wakeups: {
      mode: sum(sides.modeService, 'switches') / perSide,
      none: sum(sides.noneService, 'switches') / perSide,
    },
    errors: result.non2xx + result.errors,
  }
}

/** A row's requests on the service that carries it: a mode's on that service, a peer row's on its peer. */
const sidePool = (row: Row, cell: Cell, service: string): PooledRequest[] =>
  isPeerRow(row) ? rowPool(row, cell.pool) : servicePool(row, cell.pool, service)

/** One window: the mode's requests on one service interleaved with `none`'s on the other. */
async function sameWindowReading(
  ctx: BenchContext,
  cluster: Cluster,
  cell: Cell,
  mode: Row,
  sides: Sides,
): Promise<WindowReading> {
  const side = sidePool(mode, cell, sides.modeService)
  const other = servicePool('none', cell.pool, sides.noneService)
  // Strict alternation: both sides are sent the same number of requests.
  const mixed = side.flatMap((r, i) => [r, other[i % other.length]!])
  const load = (durationS: number) =>
    ctx.generator.saturate(ctx.base, mixed, { connections: CONNECTIONS, durationS })
  await load(ctx.profile.sameWindowWarmupS)
  const cpuBefore = await cluster.cpuTimes()
  const switchesBefore = cluster.contextSwitches()
  const result = await load(ctx.profile.sameWindowS)
  const switchesAfter = cluster.contextSwitches()
  const cpuAfter = await cluster.cpuTimes()
  const before = { cpu: cpuBefore, switches: switchesBefore }
  return reading(cluster, sides, before, { cpu: cpuAfter, switches: switchesAfter }, result)
}

/** The same-window repetitions of one cell; undefined where they cannot run (no cluster). */
export async function sameWindow(
  ctx: BenchContext,
  random: () => number,
  cell: Cell,
): Promise<SameWindow | undefined> {
  const cluster = ctx.cluster
  if (!(cluster && ctx.profile.sameWindowRepetitions > 0)) return undefined
  return measureSameWindow({
    repetitions: ctx.profile.sameWindowRepetitions,
    random,
    services: SERVICES as unknown as [string, string],
    rows: cell.rows,
    carrier: (row) => (isPeerRow(row) ? PEER_SERVICE[row] : undefined),
    window: (mode, modeService, noneService) =>
      sameWindowReading(ctx, cluster, cell, mode, { modeService, noneService, replicas: cell.replicas }),
    log: cell.log,
  })
}
