import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  BEGIN,
  END,
  latestPublished,
  publishedName,
  publishResults,
  REPO_ROOT,
  readmeBlock,
  TRADEOFF_SVG,
} from '../src/publish.ts'
import { tradeoffSvg } from '../src/report.ts'
import { synthetic, withPeers, withSameWindow } from './fixtures.ts'

const between = (text: string) => text.slice(text.indexOf(BEGIN), text.indexOf(END) + END.length)

test("the README's decision table and the trade-off chart are what the latest published run generates (pnpm bench --publish, or node loadtest/src/publish.ts <results.json>)", async () => {
  const latest = await latestPublished()
  assert.ok(latest, 'docs/results holds a published run')
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8')
  assert.equal(between(readme), readmeBlock(latest))
  assert.equal(await readFile(join(REPO_ROOT, TRADEOFF_SVG), 'utf8'), `${tradeoffSvg(latest)}\n`)
  const page = await readFile(join(REPO_ROOT, 'docs/results', `${publishedName(latest)}.md`), 'utf8')
  assert.match(page, new RegExp(`seed ${latest.seed}`))
})

test('publishing writes the page, its charts and results.json, and the README block between its markers, leaving the rest of the README alone; publishing again changes nothing', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'authlab-publish-'))
  t.after(() => rm(root, { recursive: true, force: true }))
  const before = '# authlab\n\nintro\n'
  const after = '\n\n## Quick start\n'
  await writeFile(join(root, 'README.md'), `${before}${BEGIN}\n\n${END}${after}`)
  const r = { ...withSameWindow(synthetic()), commit: 'abc1234' }
  const page = await publishResults(r, root)
  const name = publishedName(r)
  assert.equal(page, join(root, 'docs/results', `${name}.md`))
  assert.match(name, /^2026-11-24-2cpu-linux-x64-quick$/)
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  assert.ok(readme.startsWith(before) && readme.endsWith(after))
  assert.match(readme, /\| `session` \| `sid` cookie \| one Redis `GETEX` \| 1\.20× \[1\.14–1\.26\] \|/)
  assert.match(readme, new RegExp(`\\(docs/results/${name}\\.md\\) \\(seed 42, commit abc1234\\)`))
  const markdown = await readFile(page, 'utf8')
  const charts = await readdir(join(root, 'docs/results', name))
  assert.ok(charts.includes('results.json') && charts.includes('tradeoff.svg'))
  for (const svg of charts.filter((f) => f.endsWith('.svg')))
    assert.ok(markdown.includes(`](${name}/${svg})`), svg)
  assert.deepEqual(await latestPublished(root), JSON.parse(JSON.stringify(r)))
  await publishResults(r, root)
  assert.equal(await readFile(join(root, 'README.md'), 'utf8'), readme)
})

test('nothing a reader sees names an absolute path of a machine, another day, or a document outside the repository', async () => {
  const docs = (await readdir(join(REPO_ROOT, 'docs'), { recursive: true })).filter((f) => f.endsWith('.md'))
  const files = ['README.md', ...docs.map((f) => join('docs', f))]
  for (const file of files) {
    const text = await readFile(join(REPO_ROOT, file), 'utf8')
    assert.doesNotMatch(
      text,
      // /home/k6 is a path inside the k6 image (its user's home), the same on every machine.
      /\/(work|tmp|home(?!\/k6\b)|root|Users)\/[\w.-]+|previous day|yesterday|\.\.\/shared|spec §/i,
      file,
    )
  }
})

test("the README block sets the tutorial code beside authlab's modes when the run measured it, and leaves it out otherwise", () => {
  const plain = readmeBlock(withSameWindow(synthetic()))
  assert.doesNotMatch(plain, /authlab vs the tutorial code/)
  const block = readmeBlock(withPeers(withSameWindow(synthetic())))
  assert.match(block, /### authlab vs the tutorial code/)
  assert.match(block, /\| `textbook-session` \|/)
  assert.match(block, /what the tutorial lacks/)
  assert.ok(block.endsWith(END))
})
