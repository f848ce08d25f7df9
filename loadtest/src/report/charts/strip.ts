import { COLORS, esc, line, svgDocument, text, timeScale } from './svg.ts'

export interface StripRow {
  label: string
  /** one value per replica and trial, ms */
  values: { replica: string; ms: number }[]
}

const WIDTH = 760
const ROW_H = 30
const PAD = { l: 130, r: 40, t: 16, b: 50 }

/** One row per mode, a dot per replica and trial on a log time axis from 0. */
export function stripPlot(axis: string, rows: StripRow[]): string | undefined {
  const live = rows.filter((r) => r.values.length > 0)
  if (live.length === 0) return undefined
  const maxMs = Math.max(1, ...live.flatMap((r) => r.values.map((v) => v.ms)))
  const xs = timeScale(maxMs, PAD.l, WIDTH - PAD.r)
  const plotBottom = PAD.t + live.length * ROW_H
  const body = live
    .map((r, i) => {
      const mid = PAD.t + i * ROW_H + ROW_H / 2
      const replicas = [...new Set(r.values.map((v) => v.replica))].sort()
      const dots = r.values
        .map((v) => {
          const k = replicas.indexOf(v.replica)
          const jitter = (k - (replicas.length - 1) / 2) * (ROW_H / Math.max(replicas.length + 1, 4))
          return `<circle cx="${xs.x(v.ms).toFixed(1)}" cy="${(mid + jitter).toFixed(1)}" r="3" fill="${COLORS[k % COLORS.length]}" fill-opacity="0.7"><title>${esc(`${r.label} ${v.replica}: ${Math.round(v.ms)} ms`)}</title></circle>`
        })
        .join('')
      return `${line(PAD.l, mid, WIDTH - PAD.r, mid, '#f0f0f0')}${text(PAD.l - 6, mid + 4, r.label, 'text-anchor="end"')}${dots}`
    })
    .join('')
  const ticks = xs.ticks
    .map(
      (ms) =>
        `${line(xs.x(ms), plotBottom, xs.x(ms), plotBottom + 4)}${text(xs.x(ms), plotBottom + 16, xs.label(ms), 'text-anchor="middle"')}`,
    )
    .join('')
  const height = plotBottom + PAD.b
  return svgDocument(
    WIDTH,
    height,
    `${body}${line(PAD.l, plotBottom, WIDTH - PAD.r, plotBottom)}${ticks}${text((PAD.l + WIDTH - PAD.r) / 2, height - 12, axis, 'text-anchor="middle"')}`,
  )
}
