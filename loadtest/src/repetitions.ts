import { MODES } from '../lib/scenarios.js'
import type { LoadResult } from './load.ts'
import type { TierCost } from './measure.ts'
import type { Estimate, ModeRun, Ratios } from './results.ts'
import { bootstrapMedian, median, noiseFloor, seeded, shuffle, spread, withinNoise } from './stats.ts'
import type { Row } from './textbook.ts'

/** The A/A control's slot: a second `none` window at its own place in each repetition. */
const AA = 'none (A/A)'
type Slot = Row | typeof AA

interface Sample {
  rps: number
  replicaCpu: number
  totalCpu: number
  errors: number
  cost: TierCost | undefined
}

export type Measured = Omit<ModeRun, 'p50Ms' | 'p95Ms' | 'p99Ms' | 'latencyRate'>

export interface Repetitions {
  modes: Record<string, Measured>
  order: string[][]
  aa: Ratios
  noiseFloor: { rps: number; replicaCpu: number; totalCpu: number }
}

const totalCpu = (c: TierCost | undefined) =>
  c
    ? c.replicaCpuUsPerRequest + c.nginxCpuUsPerRequest + c.redisCpuUsPerRequest + c.authCpuUsPerRequest
    : Number.NaN

/**
 * Every mode once per repetition plus `none` twice, in a fresh seeded order each time, so no mode
 * owns a position (the first window after a pool switch, the one after the dearest mode). Each
 * mode is compared with the `none` windows of its own repetition (paired), which cancels drift
 * between repetitions; the two `none` windows compared with each other are the A/A control.
 */
export async function measureRepetitions(opts: {
  profile: { repetitions: number }
  random: () => number
  /** what is measured beside `none`: every mode unless given (the sweep adds the peer rows) */
  rows?: readonly Row[]
  window: (row: Row) => Promise<{ result: LoadResult; cost: TierCost | undefined }>
  log: (line: string) => void
}): Promise<Repetitions> {
  const rows = opts.rows ?? MODES
  const slots: Slot[] = [...rows, AA]
  const reps: Map<Slot, Sample>[] = []
  const order: string[][] = []
  const aaOrder: [Slot, Slot][] = []
  for (let rep = 0; rep < opts.profile.repetitions; rep++) {
    const slotOrder = shuffle(slots, opts.random)
    order.push(slotOrder)
    const samples = new Map<Slot, Sample>()
    for (const slot of slotOrder) {
      const { result, cost } = await opts.window(slot === AA ? 'none' : slot)
      samples.set(slot, {
        rps: result.rps,
        replicaCpu: cost?.replicaCpuUsPerRequest ?? Number.NaN,
        totalCpu: totalCpu(cost),
        errors: result.non2xx + result.errors,
        cost,
      })
      opts.log(
        `${slot.padEnd(14)} rep ${rep + 1}/${opts.profile.repetitions}: ${Math.round(result.rps)} req/s, ${result.non2xx + result.errors} non-2xx`,
      )
    }
    reps.push(samples)
    const [first, later] = slotOrder.filter((s) => s === 'none' || s === AA) as [Slot, Slot]
    aaOrder.push([first, later])
  }

  // A separate stream for the bootstrap: the same samples always give the same intervals.
  const boot = seeded(0x5eed)
  const ratio = (pick: (s: Sample) => number, num: (rep: number) => Sample, den: (rep: number) => number) =>
    bootstrapMedian(
      reps.map((_, i) => pick(num(i)) / den(i)),
      boot,
    )
  const noneOf = (i: number, pick: (s: Sample) => number) =>
    (pick(reps[i]!.get('none')!) + pick(reps[i]!.get(AA)!)) / 2
  const pickers = {
    rps: (s: Sample) => s.rps,
    replicaCpu: (s: Sample) => s.replicaCpu,
    totalCpu: (s: Sample) => s.totalCpu,
  }
  const ratios = (num: (i: number) => Sample, den: (i: number, pick: (s: Sample) => number) => number) =>
    Object.fromEntries(
      Object.entries(pickers).map(([k, pick]) => [k, ratio(pick, num, (i) => den(i, pick))]),
    ) as Ratios
  const aa = ratios(
    (i) => reps[i]!.get(aaOrder[i]![1])!,
    (i, pick) => pick(reps[i]!.get(aaOrder[i]![0])!),
  )
  const floor = {
    rps: noiseFloor(aa.rps),
    replicaCpu: noiseFloor(aa.replicaCpu),
    totalCpu: noiseFloor(aa.totalCpu),
  }

  const modes: Record<string, Measured> = {}
  for (const mode of rows) {
    const samples = reps.flatMap((r) => (mode === 'none' ? [r.get('none')!, r.get(AA)!] : [r.get(mode)!]))
    const costs = samples.map((s) => s.cost).filter((c): c is TierCost => c !== undefined)
    const med = (xs: number[]) => (xs.length ? median(xs) : Number.NaN)
    const vsNone = ratios((i) => reps[i]!.get(mode)!, noneOf)
    const estimate = (xs: number[]): Estimate => bootstrapMedian(xs, boot)
    modes[mode] = {
      rps: median(samples.map((s) => s.rps)),
      rpsSpread: spread(samples.map((s) => s.rps)),
      rpsInterval: estimate(samples.map((s) => s.rps)),
      errors: samples.reduce((n, s) => n + s.errors, 0),
      replicaCpuUsPerRequest: med(costs.map((c) => c.replicaCpuUsPerRequest)),
      replicaCpuInterval: estimate(costs.map((c) => c.replicaCpuUsPerRequest)),
      nginxCpuUsPerRequest: med(costs.map((c) => c.nginxCpuUsPerRequest)),
      authCpuUsPerRequest: med(costs.map((c) => c.authCpuUsPerRequest)),
      redisCpuUsPerRequest: med(costs.map((c) => c.redisCpuUsPerRequest)),
      redisCommandsPerRequest: med(costs.map((c) => c.redisCommandsPerRequest)),
      vsNone,
      withinNoise: {
        rps: withinNoise(vsNone.rps, floor.rps),
        replicaCpu: withinNoise(vsNone.replicaCpu, floor.replicaCpu),
        totalCpu: withinNoise(vsNone.totalCpu, floor.totalCpu),
      },
    }
  }
  return { modes, order, aa, noiseFloor: floor }
}

/** What one same-window measurement reads; per request means per request of one side. */
export interface WindowReading {
  /** the mode side's replica CPU over the `none` side's */
  replicaCpu: number
  /**
   * the server core's CPU charged to each side, mode over `none`: its replicas, plus Redis, auth
   * and Postgres for the mode side (only a mode's requests reach them) and half of nginx for each
   */
  serverCpu: number
  /** event-loop context switches per request on the mode side's replicas and on `none`'s */
  wakeups: { mode: number; none: number }
  errors: number
}

export interface SameWindowMode {
  replicaCpu: Estimate
  withinNoise: boolean
  serverCpu: Estimate
  serverWithinNoise: boolean
  wakeups: { mode: Estimate; none: Estimate }
}

export interface SameWindow {
  /** per mode but `none`, measured in the same windows as `none` */
  modes: Record<string, SameWindowMode>
  /** `none` against `none` through the same procedure: the design's own noise */
  aa: Estimate
  noiseFloor: number
  serverAa: Estimate
  serverNoiseFloor: number
  /** per repetition, the slots in the order measured and the service the mode was on */
  order: string[][]
}

/**
 * Replica CPU per request against `none`, both measured in the same window: one service's replicas
 * answer the mode while the other service's replicas answer `none`, on the same core at the same
 * moment, from one generator that alternates between them (so each side gets the same number of
 * requests, and the ratio of their CPU is the ratio per request). Whatever slows the core during a
 * window (on this VM its speed changes up to 2× for seconds at a time, with no load of ours) slows
 * both sides alike and cancels. Which service carries a mode alternates from repetition to
 * repetition, so their difference cancels too; the A/A slot runs `none` on both sides through the
 * same procedure.
 */
export async function measureSameWindow(opts: {
  repetitions: number
  random: () => number
  services: readonly [string, string]
  /** what is measured against `none`: every mode unless given (the sweep adds the peer rows) */
  rows?: readonly Row[]
  /**
   * The service that answers a row that is not a mode (a peer row: its peer's replicas), against
   * `none` on whichever of `services` the alternation gives the `none` side.
   */
  carrier?: (row: Row) => string | undefined
  /** runs one window with the row on one service and `none` on the other */
  window: (row: Row, modeService: string, noneService: string) => Promise<WindowReading>
  log: (line: string) => void
}): Promise<SameWindow> {
  const slots: Slot[] = [...(opts.rows ?? MODES).filter((m) => m !== 'none'), AA]
  const readings = new Map<Slot, WindowReading[]>(slots.map((s) => [s, []]))
  const order: string[][] = []
  for (let rep = 0; rep < opts.repetitions; rep++) {
    const slotOrder = shuffle(slots, opts.random)
    const measured: string[] = []
    for (const slot of slotOrder) {
      // Each slot's carrier alternates from repetition to repetition (balanced over the run), and
      // does not depend on the slot's position: a service that has just answered a heavier mode
      // pays some of it later (deferred garbage collection), and strict alternation from window to
      // window always handed that debt to the next window's `none` side (A/A medians of 0.98 and
      // outliers near 0.84, all below 1). Now it falls on either side alike.
      const [alternated, noneService] =
        (rep + slots.indexOf(slot)) % 2 ? opts.services : ([...opts.services].reverse() as [string, string])
      const row = slot === AA ? 'none' : slot
      const modeService = opts.carrier?.(row) ?? alternated
      const reading = await opts.window(row, modeService, noneService)
      // A window with errors measured something else than the mode's cost: it is not counted.
      if (reading.errors === 0 && Number.isFinite(reading.replicaCpu)) readings.get(slot)!.push(reading)
      measured.push(`${slot}@${modeService}`)
      opts.log(
        `${slot.padEnd(14)} same-window rep ${rep + 1}/${opts.repetitions} (on ${modeService}): ${reading.replicaCpu.toFixed(3)}× none's replica CPU, ${reading.serverCpu.toFixed(3)}× server CPU, wake-ups ${reading.wakeups.mode.toFixed(2)}/${reading.wakeups.none.toFixed(2)} per request${reading.errors ? `, ${reading.errors} errors (dropped)` : ''}`,
      )
    }
    order.push(measured)
  }
  const boot = seeded(0x5a3e)
  const estimate = (slot: Slot, read: (r: WindowReading) => number) =>
    bootstrapMedian(readings.get(slot)!.map(read), boot)
  const aa = estimate(AA, (r) => r.replicaCpu)
  const floor = noiseFloor(aa)
  const serverAa = estimate(AA, (r) => r.serverCpu)
  const serverFloor = noiseFloor(serverAa)
  const modes: SameWindow['modes'] = {}
  for (const slot of slots) {
    if (slot === AA) continue
    const replicaCpu = estimate(slot, (r) => r.replicaCpu)
    const serverCpu = estimate(slot, (r) => r.serverCpu)
    modes[slot] = {
      replicaCpu,
      withinNoise: withinNoise(replicaCpu, floor),
      serverCpu,
      serverWithinNoise: withinNoise(serverCpu, serverFloor),
      wakeups: { mode: estimate(slot, (r) => r.wakeups.mode), none: estimate(slot, (r) => r.wakeups.none) },
    }
  }
  return { modes, aa, noiseFloor: floor, serverAa, serverNoiseFloor: serverFloor, order }
}
