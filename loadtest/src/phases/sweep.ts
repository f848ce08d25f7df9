// The replica sweep: at each replica count and token profile, every mode's cost per request from
// interleaved repetitions, the same-window ratios, and latency at one fixed arrival rate.
import { MODES } from '../../lib/scenarios.js'
import { type Mode, requestPool, type TokenProfile } from '../credentials.ts'
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
import type { BenchContext, Pool } from './context.ts'
import { freshPool } from './credentials.ts'
import { sameWindow } from './same-window.ts'

/** One replica count and token profile of the sweep. */
export interface Cell {
  replicas: number
  tp: TokenProfile
  pool: Pool
  /** the replicas under load, by process name (none against a gateway) */
  active: string[]
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

/** Every mode in a fresh order per repetition, each window preceded by its own warm-up. */
function repetitions(ctx: BenchContext, random: () => number, cell: Cell): Promise<Repetitions> {
  return measureRepetitions({
    profile: ctx.profile,
    random,
    window: async (mode) => {
      const requests = requestPool(mode, cell.pool)
      await ctx.generator.saturate(ctx.base, requests, {
        connections: CONNECTIONS,
        durationS: ctx.profile.warmupS,
      })
      return measureWindow(
        ctx.cluster,
        ctx.redisNodes.length ? ctx.redisNodes : undefined,
        ctx.backgroundCallsPerS,
        cell.active,
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
 * Each mode's figures with its latency at one fixed arrival rate for every mode (half the slowest
 * mode's saturation rate), measured at every count or only at the largest, as the profile says.
 */
async function withLatency(
  ctx: BenchContext,
  sweep: Sweep,
  cell: Cell,
  measured: Repetitions,
  same: SameWindow | undefined,
): Promise<Record<string, ModeRun>> {
  const rate = Math.max(10, 0.5 * Math.min(...Object.values(measured.modes).map((m) => m.rps)))
  const measureLatency = ctx.profile.latencyAtEveryCount || cell.replicas === largest(ctx)
  const modes: Record<string, ModeRun> = {}
  for (const mode of MODES as readonly Mode[]) {
    const lat = measureLatency
      ? await fixedRate(ctx.base, requestPool(mode, cell.pool), {
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

async function measureCell(ctx: BenchContext, sweep: Sweep, cell: Cell): Promise<Run> {
  const measured = await repetitions(ctx, sweep.random, cell)
  const same = await sameWindow(ctx, sweep.random, cell)
  const modes = await withLatency(ctx, sweep, cell, measured, same)
  logControls(ctx, cell, measured, same)
  return {
    replicas: cell.replicas,
    tokenProfile: cell.tp,
    algorithm: 'EdDSA',
    generator: 'autocannon',
    latencyGenerator: sweep.latencyGenerator,
    modes,
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
      runs.push(await measureCell(ctx, sweep, { replicas, tp, pool: await freshPool(ctx, tp), active, log }))
    }
  }
  return { runs }
}
