import { f0, f1, finite } from '../format.ts'
import { COLORS, esc, line, svgDocument, text, yTitle } from './svg.ts'

export interface Series {
  name: string
  values: (number | null | undefined)[]
}

const WIDTH = 760
const HEIGHT = 300
const PAD = { l: 70, r: 170, t: 20, b: 50 }

/** A y scale over the values: logarithmic when the largest is over 20× the smallest. */
function yScale(values: number[]) {
  const [lo, hi] = [Math.min(...values), Math.max(...values)]
  const log = hi / lo > 20
  const min = log ? 10 ** Math.floor(Math.log10(lo)) : 0
  const max = log ? 10 ** Math.ceil(Math.log10(hi)) : hi * 1.1
  const frac = (v: number) =>
    log ? (Math.log10(v) - Math.log10(min)) / (Math.log10(max) - Math.log10(min)) : v / max
  const y = (v: number) => HEIGHT - PAD.b - frac(Math.max(v, min || v)) * (HEIGHT - PAD.t - PAD.b)
  const ticks = log
    ? Array.from({ length: Math.round(Math.log10(max / min)) + 1 }, (_, i) => min * 10 ** i)
    : [0, 0.25, 0.5, 0.75, 1].map((t) => t * max)
  return { y, ticks, log }
}

function seriesPath(
  s: Series,
  si: number,
  xPos: (i: number) => number,
  y: (v: number) => number,
  unit: string,
) {
  const color = COLORS[si % COLORS.length]
  const drawn = s.values.map((v, i) => (finite(v) && v > 0 ? { x: xPos(i), y: y(v), v } : undefined))
  const points = drawn.filter((p) => p !== undefined)
  const dots = points
    .map(
      (p) =>
        `<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="3" fill="${color}"><title>${esc(`${s.name}: ${f1(p.v)} ${unit}`)}</title></circle>`,
    )
    .join('')
  const label = text(WIDTH - PAD.r + 8, PAD.t + si * 16 + 10, s.name, `fill="${color}"`)
  return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')}"/>${dots}${label}`
}

/** Lines over the categories `xs`, one per series, with optional single marks (◇). */
export function lineChart(
  xAxis: string,
  yAxis: string,
  xs: number[],
  series: Series[],
  marks: { name: string; x: number; y: number }[] = [],
): string | undefined {
  const live = series.filter((s) => s.values.some((v) => finite(v) && v > 0))
  const all = [
    ...live.flatMap((s) => s.values.filter((v): v is number => finite(v) && v > 0)),
    ...marks.map((p) => p.y),
  ]
  if (all.length === 0) return undefined
  const { y, ticks, log } = yScale(all)
  const xPos = (i: number) => PAD.l + (xs.length === 1 ? 0.5 : i / (xs.length - 1)) * (WIDTH - PAD.l - PAD.r)
  const grid = ticks
    .map(
      (v) =>
        `${line(PAD.l, y(v), WIDTH - PAD.r, y(v), '#eee')}${text(PAD.l - 6, y(v) + 4, f0(v), 'text-anchor="end"')}`,
    )
    .join('')
  const lines = live.map((s, si) => seriesPath(s, si, xPos, y, yAxis)).join('')
  const diamonds = marks
    .map((p, i) => {
      const x = xPos(xs.indexOf(p.x))
      return `<path d="M${(x - 6).toFixed(1)},${y(p.y).toFixed(1)} l6,-6 l6,6 l-6,6 z" fill="none" stroke="#000" stroke-width="1.5"><title>${esc(`${p.name}: ${f0(p.y)}`)}</title></path>${text(WIDTH - PAD.r + 8, PAD.t + (live.length + i) * 16 + 10, `◇ ${p.name}`)}`
    })
    .join('')
  const axes =
    line(PAD.l, HEIGHT - PAD.b, WIDTH - PAD.r, HEIGHT - PAD.b) +
    line(PAD.l, PAD.t, PAD.l, HEIGHT - PAD.b) +
    xs.map((v, i) => text(xPos(i), HEIGHT - PAD.b + 16, String(v), 'text-anchor="middle"')).join('') +
    text((PAD.l + WIDTH - PAD.r) / 2, HEIGHT - 8, xAxis, 'text-anchor="middle"') +
    yTitle(16, (PAD.t + HEIGHT - PAD.b) / 2, `${yAxis}${log ? ' (log scale)' : ''}`)
  return svgDocument(WIDTH, HEIGHT, `${grid}${axes}${lines}${diamonds}`)
}
