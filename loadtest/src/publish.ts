// Publishing a run: docs/results/<date>-<machine>.md with its charts and results.json, the latest
// trade-off chart, and the README's decision table, all written from one results.json so nothing
// a reader sees is typed by hand. `pnpm bench --publish` calls it after a run; this file is also a
// CLI for a run already on disk: node loadtest/src/publish.ts <results.json>.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { workloadLine } from './plan-table.ts'
import { plan, standardWorkload } from './planner.ts'
import { choosingPage } from './report/choosing.ts'
import { PLANNING, planningPage } from './report/planning.ts'
import {
  type Chart,
  decisionTable,
  renderMarkdown,
  reportBlocks,
  tradeoffSvg,
  tutorialMarkdown,
} from './report.ts'
import type { Results } from './results.ts'
import { validateResults } from './schema.ts'

/** The repository this package lives in. */
export const REPO_ROOT = join(import.meta.dirname, '..', '..')
export const RESULTS_DIR = 'docs/results'
export const TRADEOFF_SVG = `${RESULTS_DIR}/tradeoff.svg`
/** The claims page: each article claim beside the latest run's figure (report/choosing.ts). */
export const CHOOSING = 'docs/choosing.md'
export const BEGIN = '<!-- generated:decision begin: written by `pnpm bench --publish`; do not edit -->'
export const END = '<!-- generated:decision end -->'

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/\(r\)|\(tm\)|cpu @.*$|processor/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')

/** `<date>-<machine>`: the day the run started and the machine it ran on. */
export function publishedName(r: Results): string {
  const machine = slug(`${r.machine.cpus}cpu ${r.machine.cpuModel ?? r.machine.platform}`).slice(0, 40)
  return `${r.startedAt.slice(0, 10)}-${machine}-${r.profile}`
}

/** The README's generated block: the decision table and where it comes from. */
export function readmeBlock(r: Results): string {
  const table = decisionTable(r)
  if (!table) throw new Error('the run has no measured modes: nothing to publish')
  const name = publishedName(r)
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`
  return [
    BEGIN,
    '',
    row(table.head),
    row(table.head.map(() => '-')),
    ...table.rows.map(row),
    '',
    `${table.caption} From [the ${r.profile} run of ${r.startedAt.slice(0, 10)}](${RESULTS_DIR}/${name}.md) (seed ${r.seed}${r.commit ? `, commit ${r.commit}` : ''}).`,
    '',
    ...tutorialSection(r),
    END,
  ].join('\n')
}

/** The tutorial code beside authlab's modes, when the run measured it (the `textbook` peer). */
function tutorialSection(r: Results): string[] {
  const tables = tutorialMarkdown(r)
  if (!tables) return []
  return [
    '### authlab vs the tutorial code',
    '',
    '`textbook` is the code the introductory articles teach (Express, express-session, jsonwebtoken), measured in the same run as a deliberately plain baseline: not code to copy.',
    '',
    tables.trimEnd(),
    '',
  ]
}

/** The README with its generated block replaced; throws when the markers are missing. */
export function withReadmeBlock(readme: string, block: string): string {
  const begin = readme.indexOf(BEGIN)
  const end = readme.indexOf(END)
  if (begin < 0 || end < begin) throw new Error(`README.md lacks the markers ${BEGIN} … ${END}`)
  return readme.slice(0, begin) + block + readme.slice(end + END.length)
}

/** The planner's answer for the claims page's workload, where the run has a calibration. */
function atScale(r: Results) {
  if (!r.capacityModel.calibration) return undefined
  const w = standardWorkload(1e5, 1e7)
  return { workload: workloadLine(w), plans: plan(r, w) }
}

/** Every file a publication writes, relative to the repository root, with its content. */
export function publication(r: Results): Map<string, string> {
  const name = publishedName(r)
  const chartPath = (c: Chart) => `${name}/${c.name}.svg`
  const files = new Map<string, string>()
  files.set(`${RESULTS_DIR}/${name}/results.json`, `${JSON.stringify(r, null, 2)}\n`)
  for (const b of reportBlocks(r))
    if (b.kind === 'chart') files.set(`${RESULTS_DIR}/${chartPath(b)}`, `${b.svg}\n`)
  files.set(`${RESULTS_DIR}/${name}.md`, renderMarkdown(r, { chartPath }))
  const tradeoff = tradeoffSvg(r)
  if (tradeoff) files.set(TRADEOFF_SVG, `${tradeoff}\n`)
  // Relative to docs/, where the page lives.
  files.set(CHOOSING, choosingPage(r, `results/${name}.md`, atScale(r)))
  const planning = planningPage(r, `results/${name}.md`)
  if (planning) files.set(PLANNING, planning)
  return files
}

/** Writes the publication and the README's block under `root`; resolves with the page's path. */
export async function publishResults(run: Results, root = REPO_ROOT): Promise<string> {
  // As a reader of the published results.json will see it (NaN is null there), so the page and the
  // README are exactly what that file generates.
  const r = JSON.parse(JSON.stringify(run)) as Results
  const errors = validateResults(r)
  if (errors.length) throw new Error(`results.json does not match its schema: ${errors.join('; ')}`)
  const files = publication(r)
  for (const [path, content] of files) {
    await mkdir(join(root, path, '..'), { recursive: true })
    await writeFile(join(root, path), content)
  }
  const readme = join(root, 'README.md')
  await writeFile(readme, withReadmeBlock(await readFile(readme, 'utf8'), readmeBlock(r)))
  return join(root, RESULTS_DIR, `${publishedName(r)}.md`)
}

/** The published run the README shows: the one that started last. */
export async function latestPublished(root = REPO_ROOT): Promise<Results | undefined> {
  const dir = join(root, RESULTS_DIR)
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  const runs = await Promise.all(
    entries
      .filter((e) => e.isDirectory())
      .map(async (e) => JSON.parse(await readFile(join(dir, e.name, 'results.json'), 'utf8')) as Results),
  )
  return runs.sort((a, b) => a.startedAt.localeCompare(b.startedAt)).at(-1)
}

if (import.meta.main) {
  const file = process.argv[2]
  if (!file) {
    console.error('usage: node loadtest/src/publish.ts <results.json>')
    process.exit(2)
  }
  const page = await publishResults(JSON.parse(await readFile(file, 'utf8')) as Results)
  console.log(`published: ${relative(process.cwd(), page)} (and README.md's decision table, ${CHOOSING})`)
}
