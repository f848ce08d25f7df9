// Hand-written SVG, kept small: a few primitives shared by every chart, no external assets.
import { f0 } from '../format.ts'

export const COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#9c755f']

export const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** A standalone SVG document (it is also published as a file beside the Markdown). */
export function svgDocument(width: number, height: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui, sans-serif" font-size="12"><rect width="${width}" height="${height}" fill="#fff"/>${body}</svg>`
}

export const text = (x: number, y: number, s: string, attrs = '') =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${attrs ? ` ${attrs}` : ''}>${esc(s)}</text>`

export const line = (x1: number, y1: number, x2: number, y2: number, stroke = '#888', extra = '') =>
  `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="${stroke}"${extra ? ` ${extra}` : ''}/>`

/** A y axis title, rotated along the axis. */
export const yTitle = (x: number, y: number, s: string) =>
  `<text transform="translate(${x} ${y.toFixed(1)}) rotate(-90)" text-anchor="middle">${esc(s)}</text>`

/**
 * A time axis from 0 on a logarithmic scale: position ∝ log10(1 + ms), so 0 ms has a place and
 * each decade from 1 ms up gets the same width.
 */
export function timeScale(maxMs: number, from: number, to: number) {
  const top = 10 ** Math.ceil(Math.log10(Math.max(maxMs, 10)))
  const span = Math.log10(1 + top)
  const x = (ms: number) => from + (Math.log10(1 + Math.max(0, ms)) / span) * (to - from)
  const ticks = [0, ...Array.from({ length: Math.log10(top) + 1 }, (_, i) => 10 ** i)]
  return { x, ticks, label: duration }
}

/** 0, 1 ms, 10 ms, 100 ms, 1 s, 10 s, 100 s, 1,000 s. */
export function duration(ms: number): string {
  if (ms === 0) return '0'
  return ms < 1000 ? `${f0(ms)} ms` : `${f0(ms / 1000)} s`
}
