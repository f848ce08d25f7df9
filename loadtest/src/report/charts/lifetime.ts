import { f0, f2, finite } from '../format.ts'
import { COLORS, esc, line, svgDocument, text, timeScale, yTitle } from './svg.ts'

/** One point of the token-lifetime chart: a revocation window and what it costs per 1,000 users. */
export interface LifetimeChartPoint {
  label: string
  windowMs: number
  /** CPU core-ms per second per 1,000 active users */
  coreMsPerS: number
  /** `jwt` at each lifetime is one line; every other point stands alone */
  line: boolean
}

const WIDTH = 760
const HEIGHT = 400
const PAD = { l: 70, r: 40, t: 24, b: 56 }

/** A linear scale from 0 (or below, for a value under the idle rate's noise) with about 5 ticks. */
function yScale(values: number[]) {
  const lo = Math.min(0, ...values)
  const hi = Math.max(...values, 1e-9)
  const raw = (hi - lo) / 5
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag
  const min = Math.floor(lo / step) * step
  const max = Math.ceil(hi / step) * step
  const y = (v: number) => HEIGHT - PAD.b - ((v - min) / (max - min)) * (HEIGHT - PAD.t - PAD.b)
  const ticks = Array.from({ length: Math.round((max - min) / step) + 1 }, (_, i) => min + i * step)
  return { y, ticks }
}

function dot(p: LifetimeChartPoint, color: string, cx: number, cy: number): string {
  const title = `${p.label}: ${f2(p.coreMsPerS)} core-ms/s per 1,000 active users`
  return `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="5" fill="${color}"><title>${esc(title)}</title></circle>`
}

/** Each label beside its point, pushed down where it would overlap one placed before it. */
function labels(items: { x: number; y: number; label: string }[]): string {
  const placed: { x: number; y: number }[] = []
  return [...items]
    .sort((a, b) => a.y - b.y)
    .map((it) => {
      const end = it.x > WIDTH - PAD.r - 140
      const x = end ? it.x - 8 : it.x + 8
      let y = it.y - 8
      for (const p of placed) if (Math.abs(p.x - x) < 140 && Math.abs(p.y - y) < 14) y = p.y + 14
      placed.push({ x, y })
      return text(x, y, it.label, end ? 'text-anchor="end"' : '')
    })
    .join('')
}

/** The grid, the axes and their titles. */
function axesAndGrid(xs: ReturnType<typeof timeScale>, y: (v: number) => number, ticks: number[]): string {
  const tick = ticks.length > 1 && ticks[1]! - ticks[0]! >= 1 ? f0 : f2
  const grid =
    ticks
      .map(
        (v) =>
          `${line(PAD.l, y(v), WIDTH - PAD.r, y(v), '#eee')}${text(PAD.l - 6, y(v) + 4, tick(v), 'text-anchor="end"')}`,
      )
      .join('') +
    xs.ticks
      .map(
        (ms) =>
          `${line(xs.x(ms), HEIGHT - PAD.b, xs.x(ms), HEIGHT - PAD.b + 4)}${text(xs.x(ms), HEIGHT - PAD.b + 16, xs.label(ms), 'text-anchor="middle"')}`,
      )
      .join('')
  const axes =
    line(PAD.l, HEIGHT - PAD.b, WIDTH - PAD.r, HEIGHT - PAD.b) +
    line(PAD.l, PAD.t, PAD.l, HEIGHT - PAD.b) +
    text(
      (PAD.l + WIDTH - PAD.r) / 2,
      HEIGHT - 12,
      'revocation window (log scale from 0)',
      'text-anchor="middle"',
    ) +
    yTitle(18, (PAD.t + HEIGHT - PAD.b) / 2, 'CPU core-ms per second per 1,000 active users')
  return grid + axes
}

/**
 * x, the revocation window (how long a revoked credential keeps working, log scale from 0); y, the
 * CPU it costs per 1,000 active users. `jwt` buys a shorter window with more refreshes; the other
 * points are the modes that revoke without a short lifetime, at their own cost.
 */
export function lifetimeChart(points: LifetimeChartPoint[]): string | undefined {
  const drawn = points.filter((p) => finite(p.windowMs) && finite(p.coreMsPerS))
  if (drawn.length === 0) return undefined
  const xs = timeScale(Math.max(...drawn.map((p) => p.windowMs)), PAD.l, WIDTH - PAD.r)
  const { y, ticks } = yScale(drawn.map((p) => p.coreMsPerS))
  const frame = axesAndGrid(xs, y, ticks)
  const joined = drawn.filter((p) => p.line).sort((a, b) => a.windowMs - b.windowMs)
  const path =
    joined.length > 1
      ? `<polyline fill="none" stroke="${COLORS[0]}" stroke-width="2" points="${joined.map((p) => `${xs.x(p.windowMs).toFixed(1)},${y(p.coreMsPerS).toFixed(1)}`).join(' ')}"/>`
      : ''
  let alone = 0
  const dots = drawn
    .map((p) =>
      dot(
        p,
        p.line ? (COLORS[0] as string) : (COLORS[++alone % COLORS.length] as string),
        xs.x(p.windowMs),
        y(p.coreMsPerS),
      ),
    )
    .join('')
  const named = labels(drawn.map((p) => ({ x: xs.x(p.windowMs), y: y(p.coreMsPerS), label: p.label })))
  return svgDocument(WIDTH, HEIGHT, `${frame}${path}${dots}${named}`)
}
