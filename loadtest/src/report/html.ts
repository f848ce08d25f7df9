import { esc } from './charts/svg.ts'
import type { Block } from './model.ts'

const inline = (s: string) =>
  esc(s)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')

function blockHtml(b: Block): string {
  switch (b.kind) {
    case 'h1':
    case 'h2':
    case 'h3':
      return `<${b.kind}>${inline(b.text)}</${b.kind}>`
    case 'p':
      return `<p>${inline(b.text)}</p>`
    case 'list':
      return `<ul>${b.items.map((i) => `<li>${inline(i)}</li>`).join('')}</ul>`
    case 'table':
      return `<table><thead><tr>${b.head.map((c) => `<th>${inline(c)}</th>`).join('')}</tr></thead><tbody>${b.rows
        .map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`)
        .join('')}</tbody></table>`
    case 'chart':
      return `<figure data-chart="${esc(b.name)}"><figcaption><strong>${inline(b.title)}</strong><br>${inline(b.caption)}</figcaption>${b.svg}</figure>`
  }
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1000px;color:#222}
table{border-collapse:collapse;margin:1rem 0;font-size:13px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}figure{margin:1.5rem 0}figcaption{margin-bottom:.5rem;max-width:760px}
svg{max-width:100%;height:auto}code{background:#f3f3f3;padding:0 3px}`

export function htmlDocument(title: string, blocks: Block[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
${STYLE}
</style></head><body>
${blocks.map(blockHtml).join('\n')}
</body></html>
`
}
