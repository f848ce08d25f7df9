import { f2, finite, pct } from '../format.ts'
import { COLORS, esc, line, svgDocument, text, timeScale, yTitle } from './svg.ts'

/** One mode on the trade-off chart. */
export interface TradeoffPoint {
  mode: string
  /** how long a revoked credential kept working: the measured p99 window, or the token's lifetime */
  windowMs: number
  /** the per-replica windows behind it (p99 over trials, each replica) */
  replicaWindowsMs: number[]
  /** replica CPU per request over `none`'s, same window: median and 95 % interval */
  cpu: { median: number; lo: number; hi: number }
  /** the window is a lower bound (`jwt`: accepted until exp) */
  untilExp?: boolean
}

const WIDTH = 760
const HEIGHT = 400
const PAD = { l: 70, r: 40, t: 24, b: 56 }

function yScale(points: TradeoffPoint[], floor: number) {
  const values = points.flatMap((p) => [p.cpu.lo, p.cpu.hi]).concat([1 - floor, 1 + floor])
  const step = 0.25
  const min = Math.max(0, Math.floor(Math.min(...values) / step) * step)
  const max = Math.ceil((Math.max(...values) + 0.01) / step) * step
  const y = (v: number) => HEIGHT - PAD.b - ((v - min) / (max - min)) * (HEIGHT - PAD.t - PAD.b)
  const ticks = Array.from({ length: Math.round((max - min) / step) + 1 }, (_, i) => min + i * step)
  return { y, ticks }
}

/** Labels to the right of their points, pushed apart vertically so none overlaps another. */
interface Label {
  x: number
  y: number
  label: string
  /** near the right edge a label goes to the left of its point */
  end: boolean
}

function placeLabels(items: { x: number; y: number; label: string }[]): Label[] {
  const sorted = [...items].sort((a, b) => a.y - b.y)
  const placed: Label[] = []
  for (const it of sorted) {
    const end = it.x > WIDTH - PAD.r - 130
    const x = end ? it.x - 10 : it.x + 10
    let y = it.y + 4
    for (const p of placed) if (Math.abs(p.x - x) < 120 && Math.abs(p.y - y) < 14) y = p.y + 14
    placed.push({ x, y, label: it.label, end })
  }
  return placed
}

function point(p: TradeoffPoint, i: number, x: (ms: number) => number, y: (v: number) => number): string {
  const color = COLORS[i % COLORS.length]
  const cx = x(p.windowMs)
  const replicas = p.replicaWindowsMs
    .map(
      (ms) =>
        `<circle cx="${x(ms).toFixed(1)}" cy="${y(p.cpu.median).toFixed(1)}" r="2.5" fill="${color}" fill-opacity="0.35"/>`,
    )
    .join('')
  const bar = line(cx, y(p.cpu.lo), cx, y(p.cpu.hi), color, 'stroke-width="2"')
  const title = `${p.mode}: ${f2(p.cpu.median)}× [${f2(p.cpu.lo)}–${f2(p.cpu.hi)}] of none's replica CPU; revoked credential worked ${p.untilExp ? 'until exp' : `${Math.round(p.windowMs)} ms (p99)`}`
  return `${replicas}${bar}<circle cx="${cx.toFixed(1)}" cy="${y(p.cpu.median).toFixed(1)}" r="5" fill="${color}"><title>${esc(title)}</title></circle>`
}

/**
 * The trade-off the project is about: x, how long a revoked credential keeps working (log scale
 * from 0); y, what the mode costs a replica per request against `none`, measured in the same
 * windows; the grey band, the A/A control's noise floor around 1.
 */
export function tradeoffChart(points: TradeoffPoint[], noiseFloor: number): string | undefined {
  const drawn = points.filter((p) => finite(p.cpu.median) && finite(p.windowMs))
  if (drawn.length === 0) return undefined
  const maxMs = Math.max(...drawn.flatMap((p) => [p.windowMs, ...p.replicaWindowsMs]))
  const xs = timeScale(maxMs, PAD.l, WIDTH - PAD.r)
  const { y, ticks } = yScale(drawn, noiseFloor)
  const band = `<rect x="${PAD.l}" y="${y(1 + noiseFloor).toFixed(1)}" width="${WIDTH - PAD.l - PAD.r}" height="${(y(1 - noiseFloor) - y(1 + noiseFloor)).toFixed(1)}" fill="#ddd" fill-opacity="0.6"/>${text(WIDTH - PAD.r - 4, y(1 - noiseFloor) + 14, `A/A noise band (±${pct(noiseFloor)})`, 'text-anchor="end" fill="#666"')}`
  const grid =
    ticks
      .map(
        (v) =>
          `${line(PAD.l, y(v), WIDTH - PAD.r, y(v), '#eee')}${text(PAD.l - 6, y(v) + 4, `${v.toFixed(2)}×`, 'text-anchor="end"')}`,
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
      'revocation window: how long a revoked credential kept working (p99; log scale from 0)',
      'text-anchor="middle"',
    ) +
    yTitle(18, (PAD.t + HEIGHT - PAD.b) / 2, "replica CPU per request vs none's (same window)")
  const dots = drawn.map((p, i) => point(p, i, xs.x, y)).join('')
  const labels = placeLabels(
    drawn.map((p) => ({
      x: xs.x(p.windowMs),
      y: y(p.cpu.median),
      label: p.untilExp ? `${p.mode} (until exp)` : p.mode,
    })),
  )
    .map((l) => text(l.x, l.y, l.label, l.end ? 'text-anchor="end"' : ''))
    .join('')
  return svgDocument(WIDTH, HEIGHT, `${band}${grid}${axes}${dots}${labels}`)
}
