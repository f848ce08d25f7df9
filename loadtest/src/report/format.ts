import { MODES } from '../../lib/scenarios.js'
import type { Estimate, ModeRun, Results, Run } from '../results.ts'

export { MODES }

export const finite = (n: number | null | undefined): n is number =>
  typeof n === 'number' && Number.isFinite(n)
export const f0 = (n: number | null | undefined) => (finite(n) ? Math.round(n).toLocaleString('en-US') : '–')
export const f1 = (n: number | null | undefined) => (finite(n) ? n.toFixed(1) : '–')
export const f2 = (n: number | null | undefined) => (finite(n) ? n.toFixed(2) : '–')
export const pct = (n: number | null | undefined) => (finite(n) ? `${(100 * n).toFixed(1)} %` : '–')
export const interval = (e: Estimate | undefined, fmt = f2) =>
  e && finite(e.median) ? `${fmt(e.median)} [${fmt(e.lo)}–${fmt(e.hi)}]` : '–'

/** Every tier's CPU per request. */
export const total = (m: ModeRun) =>
  m.replicaCpuUsPerRequest + m.nginxCpuUsPerRequest + m.redisCpuUsPerRequest + m.authCpuUsPerRequest

/** The run the report leads with: most replicas, warm tokens. */
export function headlineRun(r: Results, profile: 'warm' | 'cold' = 'warm'): Run | undefined {
  const runs = r.runs.filter((x) => x.tokenProfile === profile)
  return [...runs].sort((a, b) => b.replicas - a.replicas)[0] ?? (profile === 'warm' ? r.runs[0] : undefined)
}

/**
 * The run the decision table and the trade-off chart read: the one whose same-window A/A control
 * is tightest (warm tokens), since its ratios are the ones the run can tell apart from noise.
 */
export function decisionRun(r: Results): Run | undefined {
  const paired = r.runs.filter((x) => x.tokenProfile === 'warm' && x.sameWindow)
  return [...paired].sort((a, b) => a.sameWindow!.noiseFloor - b.sameWindow!.noiseFloor)[0] ?? headlineRun(r)
}

const ratio = (e: Estimate | undefined, noise: boolean | undefined): string => {
  if (!e || !finite(e.median)) return '–'
  const text = `${f2(e.median)}× [${f2(e.lo)}–${f2(e.hi)}]`
  return noise ? `${text} (within noise)` : text
}

/** "1.23× [1.10–1.31]", or "(within noise)" when the sequential A/A control cannot tell it from 1. */
export const vsNone = (m: ModeRun, key: 'totalCpu' | 'replicaCpu' | 'rps') =>
  ratio(m.vsNone?.[key], m.withinNoise?.[key])

/** Replica CPU per request over `none`'s measured in the same windows. */
export const sameWindow = (m: ModeRun) => ratio(m.sameWindow?.replicaCpu, m.sameWindow?.withinNoise)

/** Server-core capacity relative to `none` at the same-window load: the inverse of its CPU ratio. */
export function coreThroughput(m: ModeRun): string {
  const e = m.sameWindow?.serverCpu
  if (!e || !finite(e.median)) return '–'
  const text = `${f2(1 / e.median)}× [${f2(1 / e.hi)}–${f2(1 / e.lo)}]`
  return m.sameWindow?.serverWithinNoise ? `${text} (within noise)` : text
}

/** Event-loop wake-ups per request, the mode's replicas against `none`'s in the same windows. */
export function wakeups(m: ModeRun): string {
  const w = m.sameWindow?.wakeups
  return w && finite(w.mode.median) ? `${f2(w.mode.median)} / ${f2(w.none.median)}` : '–'
}

/** The run's noise floors, as one sentence. */
export function noiseLine(run: Run): string | undefined {
  if (!run.aa || !run.noiseFloor) return undefined
  const paired = run.sameWindow
    ? `Same-window A/A control (\`none\` on both services, ${run.sameWindow.repetitions} repetitions of ${run.sameWindow.windowS} s): ` +
      `replica CPU ratio ${interval(run.sameWindow.aa)}, so same-window ratios within ±${pct(run.sameWindow.noiseFloor)} of 1 are marked "within noise". `
    : ''
  return (
    paired +
    `Sequential A/A control (\`none\` measured twice per repetition at shuffled positions, ${run.order?.length ?? 0} repetitions; the absolute figures and throughput come from these windows): ` +
    `throughput ratio ${interval(run.aa.rps)}, total CPU ratio ${interval(run.aa.totalCpu)} (median [95 % CI]); ` +
    `differences smaller than ±${pct(run.noiseFloor.totalCpu)} in CPU or ±${pct(run.noiseFloor.rps)} in throughput are marked "within noise".`
  )
}

/** Modes present in a run, in the canonical order. */
export const modesOf = (run: Run) => MODES.filter((m) => run.modes[m])
