import { finite } from '../format.ts'
import { COLORS, esc, line, svgDocument, text } from './svg.ts'

export interface BarRow {
  label: string
  parts: { name: string; value: number }[]
  /** printed after the bar instead of its sum */
  note?: string
}

const WIDTH = 760
const ROW_H = 26
const LEFT = 130
const RIGHT = 110
const TOP = 30

function legend(names: string[]): string {
  if (names.length < 2) return ''
  return names
    .map(
      (n, i) =>
        `<rect x="${LEFT + i * 120}" y="8" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>${text(LEFT + i * 120 + 16, 19, n)}`,
    )
    .join('')
}

function bar(row: BarRow, i: number, names: string[], scale: number, format: (n: number) => string): string {
  let x = LEFT
  const y = i * ROW_H + TOP
  const rects = row.parts.map((p) => {
    const w = p.value * scale
    const fill = COLORS[names.indexOf(p.name) % COLORS.length]
    const rect = `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${ROW_H - 6}" fill="${fill}"><title>${esc(`${row.label} ${p.name}: ${format(p.value)}`)}</title></rect>`
    x += w
    return rect
  })
  const sum = row.parts.reduce((s, p) => s + p.value, 0)
  return `${text(LEFT - 6, y + 17, row.label, 'text-anchor="end"')}${rects.join('')}${text(x + 4, y + 17, row.note ?? format(sum))}`
}

/** Horizontal stacked bars; `axis` names the quantity and unit under the bars. */
export function stackedBars(
  axis: string,
  rows: BarRow[],
  format: (n: number) => string = (n) => n.toFixed(1),
): string | undefined {
  const clean = rows.map((r) => ({ ...r, parts: r.parts.filter((p) => finite(p.value) && p.value > 0) }))
  const max = Math.max(0, ...clean.map((r) => r.parts.reduce((s, p) => s + p.value, 0)))
  if (max === 0) return undefined
  const plotW = WIDTH - LEFT - RIGHT
  const names = [...new Set(clean.flatMap((r) => r.parts.map((p) => p.name)))]
  const axisY = clean.length * ROW_H + TOP + 4
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((t) => {
      const x = LEFT + t * plotW
      return `${line(x, axisY, x, axisY + 4)}${text(x, axisY + 16, format(t * max), 'text-anchor="middle"')}`
    })
    .join('')
  const height = axisY + 40
  return svgDocument(
    WIDTH,
    height,
    `${legend(names)}${clean.map((r, i) => bar(r, i, names, plotW / max, format)).join('')}${line(LEFT, axisY, LEFT + plotW, axisY)}${ticks}${text(LEFT + plotW / 2, height - 4, axis, 'text-anchor="middle"')}`,
  )
}
