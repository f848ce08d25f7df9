import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { renderHtml, renderMarkdown, tutorialMarkdown, tutorialTable } from '../src/report.ts'
import { validateResults } from '../src/schema.ts'
import { synthetic, withPeers, withSameWindow } from './fixtures.ts'

const HEADING = '## authlab vs the tutorial code'

test('with the textbook peer, the report puts session beside textbook-session and jwt beside textbook-jwt with their same-window ratios, from one run', () => {
  const r = withPeers(withSameWindow(synthetic()))
  assert.deepEqual(validateResults(r), [])
  const table = tutorialTable(r)!
  assert.deepEqual(
    table.rows.map((row) => row[0]),
    ['`none`', '`session`', '`textbook-session`', '`jwt`', '`textbook-jwt`'],
  )
  const row = (name: string) => table.rows.find((x) => x[0] === `\`${name}\``)!
  // The fixture's mode i sits at 1 + i/10 of none; the peer rows at 1.5× and 1.8×.
  assert.equal(row('session')[2], '1.20× [1.14–1.26]')
  assert.equal(row('textbook-session')[2], '1.50× [1.42–1.58]')
  assert.equal(row('textbook-jwt')[2], '1.80× [1.71–1.89]')
  assert.equal(row('textbook-session')[3], '1.00', 'Redis commands per request')
  assert.equal(row('textbook-jwt')[5], '2.5', 'p95 at the fixed rate')
  assert.match(table.caption, /Express/, "the caption says the ratio carries the framework's cost")
})

test('every probed lack in the report comes from the peer probe: the other session after logout-all and the logged-out JWT accepted on 2/2 replicas, authlab refusing; the structural ones name their test', () => {
  const r = withPeers(withSameWindow(synthetic()))
  const md = renderMarkdown(r)
  const section = md.slice(md.indexOf(HEADING))
  assert.ok(md.includes(HEADING))
  assert.match(section, /\| logout-all \|[^\n]*other textbook session was accepted on 2\/2 replicas/)
  assert.match(section, /`session` for the same user in the same trial: 0 accepted after logout-all/)
  assert.match(
    section,
    /\| revoking a JWT \|[^\n]*JWT was accepted on 2\/2 replicas[^\n]*tokens lived 3,600 s/,
  )
  assert.match(section, /the session of that login: 0 accepted after logout/)
  for (const lack of ['issuer and audience pinning', 'key rotation, JWKS', 'roles'])
    assert.match(section, new RegExp(`\\| ${lack} \\| structural:`))
  assert.match(section, /test "a forged, tampered, expired/)
  assert.doesNotMatch(renderHtml(r), /NaN|undefined|Infinity/)
})

test('a run without the textbook peer has no tutorial section, and tutorialMarkdown (for the README) has nothing to render', () => {
  const r = withSameWindow(synthetic())
  assert.equal(tutorialTable(r), undefined)
  assert.equal(tutorialMarkdown(r), undefined)
  assert.ok(!renderMarkdown(r).includes(HEADING))
  const withBoth = tutorialMarkdown(withPeers(withSameWindow(synthetic())))!
  assert.match(withBoth, /\| `textbook-jwt` \| tutorial \|/)
  assert.match(withBoth, /\| what the tutorial lacks \|/)
})

test('the published results of earlier runs (no peer rows, no peer probe) still validate against the schema', () => {
  const dir = join(import.meta.dirname, '../../docs/results')
  const runs = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())
  assert.ok(runs.length > 0)
  for (const d of runs) {
    const results = JSON.parse(readFileSync(join(dir, d.name, 'results.json'), 'utf8'))
    assert.deepEqual(validateResults(results), [], d.name)
  }
})
