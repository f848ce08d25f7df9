import type { Estimate } from './results.ts'

// The seeded generator is shared with the chaos test; the bench's callers import it from here.
export { seeded } from '@authlab/servers'

/** Fisher–Yates with the given generator; returns a new array. */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/**
 * The median of `values` (one per repetition) with a 95 % percentile-bootstrap interval: resample
 * the repetitions with replacement, take each resample's median, read the 2.5th and 97.5th
 * percentiles. With few repetitions the interval is wide, which is the honest answer.
 */
export function bootstrapMedian(values: number[], random: () => number, resamples = 2000): Estimate {
  const xs = values.filter((v) => Number.isFinite(v))
  if (xs.length === 0) return { median: Number.NaN, lo: Number.NaN, hi: Number.NaN }
  const medians: number[] = []
  const sample = new Array<number>(xs.length)
  for (let i = 0; i < resamples; i++) {
    for (let j = 0; j < xs.length; j++) sample[j] = xs[Math.floor(random() * xs.length)] as number
    medians.push(median(sample))
  }
  medians.sort((a, b) => a - b)
  return {
    median: median(xs),
    lo: medians[Math.floor(0.025 * (resamples - 1))] as number,
    hi: medians[Math.ceil(0.975 * (resamples - 1))] as number,
  }
}

/** How far an A/A interval strays from 1: differences smaller than this are the run's noise. */
export function noiseFloor(aa: Estimate): number {
  if (!Number.isFinite(aa.lo) || !Number.isFinite(aa.hi)) return Number.NaN
  return Math.max(Math.abs(1 - aa.lo), Math.abs(aa.hi - 1), Math.abs(aa.median - 1))
}

/** A ratio whose distance from 1 is within the noise floor says nothing about the modes. */
export function withinNoise(ratio: Estimate, floor: number): boolean {
  return Number.isFinite(floor) && Math.abs(ratio.median - 1) <= floor
}

/** Relative spread (max - min) / median, to show how repeatable a figure was. */
export function spread(values: number[]): number {
  const m = median(values)
  return m === 0 ? 0 : (Math.max(...values) - Math.min(...values)) / m
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number
}
