import { markdownTable } from 'markdown-table'
import type { Block, Chart } from './model.ts'

export interface MarkdownOptions {
  /** Where a chart's SVG is published, relative to the Markdown file; charts are left out without it. */
  chartPath?: (chart: Chart) => string
}

function chartMarkdown(b: Chart, opts: MarkdownOptions): string[] {
  if (!opts.chartPath) return []
  return [`![${b.title}](${opts.chartPath(b)})\n\n*${b.caption}*`]
}

function blockMarkdown(b: Block, opts: MarkdownOptions): string[] {
  switch (b.kind) {
    case 'h1':
      return [`# ${b.text}`]
    case 'h2':
      return [`## ${b.text}`]
    case 'h3':
      return [`### ${b.text}`]
    case 'p':
      return [b.text]
    case 'list':
      return [b.items.map((i) => `- ${i}`).join('\n')]
    case 'table':
      return [markdownTable([b.head, ...b.rows], { alignDelimiters: false })]
    case 'chart':
      return chartMarkdown(b, opts)
  }
}

export function markdown(blocks: Block[], opts: MarkdownOptions = {}): string {
  return blocks.flatMap((b) => blockMarkdown(b, opts)).join('\n\n')
}
