// The report as one document model, rendered twice (report/markdown.ts, report/html.ts): Markdown
// for docs/results and terminals, HTML with the charts inline. Neither is parsed back.

/** A chart: its SVG, a file name when published beside the Markdown, and what to read from it. */
export interface Chart {
  kind: 'chart'
  name: string
  title: string
  caption: string
  svg: string
}

export type Block =
  | { kind: 'h1' | 'h2' | 'h3'; text: string }
  | { kind: 'p'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; head: string[]; rows: string[][] }
  | Chart

/** One section of the report: the blocks it contributes for a run's results (none when it has no data). */
export type Section<R> = (results: R) => Block[]

/** A chart block, or nothing when the chart had nothing to draw. */
export function chart(name: string, title: string, caption: string, svg: string | undefined): Block[] {
  return svg ? [{ kind: 'chart', name, title, caption, svg }] : []
}
