// Re-renders report.md and report.html from a results.json (after the report code changed, or for
// results made elsewhere): node loadtest/src/render.ts loadtest/results/<run>/results.json
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { renderHtml, renderMarkdown } from './report.ts'
import type { Results } from './results.ts'
import { validateResults } from './schema.ts'

const file = process.argv[2]
if (!file) throw new Error('usage: render.ts <results.json>')
const results = JSON.parse(readFileSync(file, 'utf8')) as Results
const errors = validateResults(results)
if (errors.length) throw new Error(`${file} does not match results.schema.json:\n${errors.join('\n')}`)
writeFileSync(join(dirname(file), 'report.md'), renderMarkdown(results))
writeFileSync(join(dirname(file), 'report.html'), renderHtml(results))
console.log(`rendered ${join(dirname(file), 'report.md')} and report.html`)
