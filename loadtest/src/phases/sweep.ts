// The replica sweep: at each replica count and token profile, every mode's cost per request from
// interleaved repetitions, the same-window ratios, and latency at one fixed arrival rate. Where the
// cluster runs the textbook peer, its two rows are measured in the same windows, kept apart in `peers`.
import { MODES } from '../../lib/scenarios.js'
import type { TokenProfile } from '../credentials.ts'
import { fixedRate, type LoadResult, type PooledRequest, vegetaBinary } from '../load.ts'
import { measureWindow } from '../measure.ts'
import { CONNECTIONS } from '../profiles.ts'
import {
  type Measured,
  measureRepetitions,
  type Repetitions,
  type SameWindow,
  type SameWindowMode,
} from '../repetitions.ts'
import type { ModeRun, Results, Run } from '../results.ts'
import { seeded } from '../stats.ts'
import { isPeerRow, PEER_SERVICE, type Row, rowPool, rowsOf } from '../textbook.ts'
import { type BenchContext, hasTextbook, type Pool } from './context.ts'
import { freshPool } from './credentials.ts'
import { sameWindow } from './same-window.ts'

/** One replica count and token profile of the sweep. */
export interface Cell {
  replicas: number
  tp: TokenProfile
  pool: Pool
  /** the replicas under load, by process name (none against a gateway) */
  active: string[]
  /** what is measured: every mode, and the peer rows where the peer runs */
  rows: readonly Row[]
  log: (line: string) => void
}

/** What carries from one cell to the next. */
interface Sweep {
  /** the window order's random stream, seeded by the run's seed */
  random: () => number
  /** the generator of the last fixed-rate latency measured, carried to the cells after it */
  latencyGenerator: string
}

/** Sets the cluster to `replicas` per service; the names of the replicas now under load. */
async function activate(ctx: BenchContext, replicas: number): Promise<string[]> {
  const cluster = ctx.cluster
  if (!cluster) return []
  if (replicas !== cluster.activeReplicas) await cluster.setActiveReplicas(replicas)
  return [...cluster.replicas.values()].flatMap((l) => l.slice(0, replicas).map((p) => p.replica))
}

const largest = (ctx: BenchContext) => Math.max(...ctx.sweep)

/** The cold profile is measured at the largest count only, unless the profile asks for every count. */
function measuredAt(ctx: BenchContext, tp: TokenProfile, replicas: number): boolean {
  return tp !== 'cold' || ctx.profile.coldAtEveryCount || replicas === largest(ctx)
}

/** One saturating window. */
function saturatingWindow(ctx: BenchContext, requests: PooledRequest[]) {
  return ctx.generator.saturate(ctx.base, requests, {
    connections: CONNECTIONS,
    durationS: ctx.profile.windowS,
  })
}

/** The replicas whose CPU a row's window is charged: the peer's for a peer row. */
function activeFor(ctx: BenchContext, cell: Cell, row: Row): string[] {
  if (!isPeerRow(row)) return cell.active
  const peer = ctx.cluster?.peers.get(PEER_SERVICE[row]) ?? []
  return peer.slice(0, cell.replicas).map((p) => p.replica)
}

/** Every mode in a fresh order per repetition, each window preceded by its own warm-up. */
function repetitions(ctx: BenchContext, random: () => number, cell: Cell): Promise<Repetitions> {
  return measureRepetitions({
    profile: ctx.profile,
    random,
    rows: cell.rows,
    window: async (row) => {
      const requests = rowPool(row, cell.pool)
      await ctx.generator.saturate(ctx.base, requests, {
        connections: CONNECTIONS,
        durationS: ctx.profile.warmupS,
      })
      return measureWindow(
        ctx.cluster,
        ctx.redisNodes.length ? ctx.redisNodes : undefined,
        ctx.backgroundCallsPerS,
        activeFor(ctx, cell, row),
        () => saturatingWindow(ctx, requests),
      )
    },
    log: cell.log,
  })
}

function modeRun(m: Measured, rate: number, lat: LoadResult | undefined, same?: SameWindowMode): ModeRun {
  return {
    ...m,
    p50Ms: lat?.p50Ms ?? Number.NaN,
    p95Ms: lat?.p95Ms ?? Number.NaN,
    p99Ms: lat?.p99Ms ?? Number.NaN,
    latencyRate: rate,
    errors: m.errors + (lat ? lat.non2xx + lat.errors : 0),
    ...(same ? { sameWindow: same } : {}),
  }
}

/**
 * Each row's figures with its latency at one fixed arrival rate for every row (half the slowest
 * mode's saturation rate), measured at every count or only at the largest, as the profile says.
 * The rate is the modes' alone, so adding the peer rows leaves the modes' figures as they were.
 */
async function withLatency(
  ctx: BenchContext,
  sweep: Sweep,
  cell: Cell,
  measured: Repetitions,
  same: SameWindow | undefined,
): Promise<Record<string, ModeRun>> {
  const modeRps = MODES.flatMap((m) => measured.modes[m]?.rps ?? [])
  const rate = Math.max(10, 0.5 * Math.min(...modeRps))
  const measureLatency = ctx.profile.latencyAtEveryCount || cell.replicas === largest(ctx)
  const modes: Record<string, ModeRun> = {}
  for (const mode of cell.rows) {
    const lat = measureLatency
      ? await fixedRate(ctx.base, rowPool(mode, cell.pool), {
          rate,
          durationS: ctx.profile.latencyS,
          cpus: ctx.generatorCpus,
          fallback: ctx.generator,
        })
      : undefined
    if (lat) sweep.latencyGenerator = lat.generator
    modes[mode] = modeRun(measured.modes[mode]!, rate, lat, same?.modes[mode])
  }
  return modes
}

function sameWindowSummary(ctx: BenchContext, same: SameWindow | undefined): Pick<Run, 'sameWindow'> {
  if (!same) return {}
  return {
    sameWindow: {
      aa: same.aa,
      noiseFloor: same.noiseFloor,
      serverAa: same.serverAa,
      serverNoiseFloor: same.serverNoiseFloor,
      repetitions: ctx.profile.sameWindowRepetitions,
      windowS: ctx.profile.sameWindowS,
      order: same.order,
    },
  }
}

function logControls(ctx: BenchContext, cell: Cell, measured: Repetitions, same: SameWindow | undefined) {
  // Flush left: the controls are phase lines, shown without --verbose (the windows are indented).
  const at = `replicas=${cell.replicas} ${cell.tp}`
  ctx.log(
    `${at}: A/A ratio ${measured.aa.rps.median.toFixed(3)} rps, ${measured.aa.replicaCpu.median.toFixed(3)} replica CPU (noise floor ±${(100 * measured.noiseFloor.replicaCpu).toFixed(1)} %)`,
  )
  if (same)
    ctx.log(
      `${at}: same-window A/A ${same.aa.median.toFixed(3)} [${same.aa.lo.toFixed(3)}–${same.aa.hi.toFixed(3)}] replica CPU (noise floor ±${(100 * same.noiseFloor).toFixed(1)} %)`,
    )
}

/** The measured rows split: the modes, and the peer rows (absent when the peer did not run). */
function split(rows: Record<string, ModeRun>): Pick<Run, 'modes' | 'peers'> {
  const modes: Run['modes'] = {}
  const peers: NonNullable<Run['peers']> = {}
  for (const [row, m] of Object.entries(rows)) (isPeerRow(row) ? peers : modes)[row] = m
  return { modes, ...(Object.keys(peers).length ? { peers } : {}) }
}

async function measureCell(ctx: BenchContext, sweep: Sweep, cell: Cell): Promise<Run> {
  const measured = await repetitions(ctx, sweep.random, cell)
  const same = await sameWindow(ctx, sweep.random, cell)
  const rows = await withLatency(ctx, sweep, cell, measured, same)
  logControls(ctx, cell, measured, same)
  return {
    replicas: cell.replicas,
    tokenProfile: cell.tp,
    algorithm: 'EdDSA',
    generator: 'autocannon',
    latencyGenerator: sweep.latencyGenerator,
    ...split(rows),
    order: measured.order,
    aa: measured.aa,
    noiseFloor: measured.noiseFloor,
    ...sameWindowSummary(ctx, same),
  }
}

export async function sweepReplicas(ctx: BenchContext): Promise<Pick<Results, 'runs'>> {
  const sweep: Sweep = {
    random: seeded(ctx.seed),
    latencyGenerator: vegetaBinary() ? 'vegeta (open model)' : 'autocannon (fixed rate, closed loop)',
  }
  const runs: Run[] = []
  for (const replicas of ctx.sweep) {
    const active = await activate(ctx, replicas)
    for (const tp of ctx.profile.tokenProfiles.filter((tp) => measuredAt(ctx, tp, replicas))) {
      const log = (line: string) => ctx.log(`  replicas=${replicas} ${tp} ${line}`)
      const pool = await freshPool(ctx, tp)
      const rows = rowsOf(hasTextbook(ctx) && pool.textbook !== undefined)
      runs.push(await measureCell(ctx, sweep, { replicas, tp, pool, active, rows, log }))
    }
  }
  return { runs }
}
