import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { MODES } from '../lib/scenarios.js'
import { decisionTable, renderHtml, renderMarkdown, tradeoffSvg } from '../src/report.ts'
import type { Results } from '../src/results.ts'
import { SCHEMA_FILE, schemaJson, validateResults } from '../src/schema.ts'
import { bootstrapMedian, noiseFloor, seeded, shuffle, withinNoise } from '../src/stats.ts'
import { synthetic, withSameWindow } from './fixtures.ts'

test('results.schema.json is exactly what the TypeBox definition yields (regenerate with pnpm --filter @authlab/loadtest schema)', () => {
  assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), schemaJson())
})

test('a seeded shuffle replays the same order and covers every slot once', () => {
  const slots = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']
  const one = shuffle(slots, seeded(7))
  assert.deepEqual(shuffle(slots, seeded(7)), one)
  assert.deepEqual([...one].sort(), slots)
  const firsts = new Set(Array.from({ length: 50 }, (_, i) => shuffle(slots, seeded(i))[0]))
  assert.ok(firsts.size >= 6, 'over many seeds, many slots come first')
})

test('the bootstrap interval contains the median, narrows with more repetitions, and an A/A interval around 1 gives its floor', () => {
  const few = bootstrapMedian([0.9, 1.1, 1.0], seeded(1))
  const many = bootstrapMedian([0.9, 1.1, 1.0, 0.95, 1.05, 1.0, 0.98, 1.02, 1.01, 0.99, 1.0, 1.03], seeded(1))
  for (const e of [few, many]) assert.ok(e.lo <= e.median && e.median <= e.hi)
  assert.ok(many.hi - many.lo < few.hi - few.lo)
  const floor = noiseFloor({ median: 1.01, lo: 0.97, hi: 1.04 })
  assert.equal(floor.toFixed(2), '0.04')
  assert.equal(withinNoise({ median: 1.03, lo: 1, hi: 1.05 }, floor), true)
  assert.equal(withinNoise({ median: 1.2, lo: 1.1, hi: 1.3 }, floor), false)
  assert.ok(Number.isNaN(bootstrapMedian([], seeded(1)).median))
})

test('the report leads with title, machine and summary, then the trade-off chart before the decision table and every other table; no chart plots NaN or lacks axes, units or a caption', () => {
  const r = withSameWindow(synthetic())
  assert.deepEqual(validateResults(r), [])
  const md = renderMarkdown(r)
  assert.match(md.split('\n')[0]!, /^# authlab bench/)
  assert.match(md, /Machine: 2 CPUs/)
  assert.match(md, /Noise floor/)
  assert.match(md, /\(within noise\)/)
  const html = renderHtml(r)
  assert.doesNotMatch(html, /NaN|undefined|Infinity/)
  const tradeoff = html.indexOf('data-chart="tradeoff"')
  assert.ok(
    tradeoff > 0 && tradeoff < html.indexOf('<table>'),
    'the trade-off chart comes before the first table',
  )
  assert.ok(html.indexOf('<h2>Decision table</h2>') < html.indexOf('<h2>Cost per request'))
  const figures = html.match(/<figure[\s\S]*?<\/figure>/g) ?? []
  assert.ok(figures.length >= 8)
  for (const f of figures) {
    assert.match(f, /<figcaption><strong>[^<]+<\/strong><br>.{40,}<\/figcaption>/, 'a title and a caption')
    assert.match(f, /µs|req\/s|ms|count|commands|after logout|none's/, 'every chart names its unit')
    assert.ok((f.match(/<(circle|rect|polyline|path)/g) ?? []).length > 3, 'every chart draws something')
  }
  assert.match(html, /log scale/, 'the capacity curves span more than 20×: log scale')
  assert.match(html, /validation measured/, 'the capacity chart shows the measured validation point')
  assert.match(
    md,
    /Redis used 99\.0 % of its quota and spent 66\.0 µs per request, against the 57\.0 µs the model took/,
    'the capacity check says how far its own input was off',
  )
  assert.match(html, /60\/100 ok/, 'fault charts show counts')
  // Tables are rendered from the model, not parsed back from Markdown: the same rows in both.
  assert.equal((html.match(/<table>/g) ?? []).length, (md.match(/^\| - \|/gm) ?? []).length)
})

test('the trade-off chart puts each mode at its p99 revocation window and same-window cost, each replica beside it, jwt at the token lifetime, and draws the A/A band', () => {
  const svg = tradeoffSvg(withSameWindow(synthetic()))!
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, 'a standalone SVG file')
  assert.match(
    svg,
    /session-cached: 1\.30× \[1\.23–1\.37\] of none's replica CPU; revoked credential worked 900 ms \(p99\)/,
  )
  assert.match(svg, /jwt: 1\.10× .* worked until exp/)
  assert.match(svg, /A\/A noise band \(±3\.0 %\)/)
  assert.equal(
    (svg.match(/fill-opacity="0\.35"/g) ?? []).length,
    5 * 4,
    'a faint dot per replica for every mode but jwt',
  )
  for (const tick of ['>0<', '>1 ms<', '>1 s<', '>1,000 s<']) assert.ok(svg.includes(tick), `x tick ${tick}`)
})

test('the decision table states per mode its credential, work, same-window cost, Redis commands, measured revocation and permission-change windows and what a Redis outage did', () => {
  const base = withSameWindow(synthetic())
  const table = decisionTable({
    ...base,
    permissionChange: { session: { ...base.revocation.session!, windowMsP99: 0, windowMsMax: 0 } },
  })!
  const row = (mode: string) => table.rows.find((r) => r[0] === `\`${mode}\``)!
  assert.equal(table.rows.length, MODES.length)
  assert.deepEqual(row('session').slice(1), [
    '`sid` cookie',
    'one Redis `GETEX`',
    '1.20× [1.14–1.26]',
    '0.00',
    'at once: p99 0 ms, max 0 ms (3 trials, 4 replicas)',
    'at once (record rewritten in place): p99 0 ms, max 0 ms (3 trials, 4 replicas)',
    '503 (fails closed): 60/100 ok, 503×40',
  ])
  assert.equal(
    row('jwt-denylist')[6],
    'at once (older tokens cut off; a refresh carries the new roles)',
    'no probe: the stated bound',
  )
  assert.match(
    row('jwt')[5]!,
    /^at `exp` \(tokens lived 3,600 s in this run\): accepted throughout the 3 s probe$/,
  )
  assert.match(table.caption, /same-window A\/A noise floor ±3\.0 %/)
})

test('a run with the failover phase validates, and its report says per topology when each mode failed and how many revoked credentials it accepted', () => {
  const mode = (errors: number, accepted: number) => ({
    requests: 1000,
    errors,
    errorWindowMs: errors ? 2500 : 0,
    ...(errors ? { errorsFromMs: -3, errorsUntilMs: 2497 } : {}),
    revokedProbes: 80,
    revokedAccepted: accepted,
  })
  const r: Results = {
    ...synthetic(),
    topologies: (['standalone', 'cluster'] as const).map((topology) => ({
      topology,
      fault: `${topology} primary killed`,
      recoveryMs: 2300,
      sessionsBefore: 12,
      sessionsOnKilledPrimary: 4,
      sessionsLost: 0,
      revocations: { attempted: 30, acknowledged: 28 },
      modes: { jwt: mode(0, 80), session: mode(120, 0), 'jwt-pushed': mode(40, 0) },
      ...(topology === 'cluster' ? { waitCost: { wait0Us: 700, wait1Us: 900, ratio: 900 / 700 } } : {}),
    })),
  }
  assert.deepEqual(validateResults(r), [])
  const md = renderMarkdown(r)
  assert.match(md, /## Failover: the primary holding the revocation keys killed under load/)
  assert.match(
    md,
    /\| `session` \| 0\.0–2\.5 s \(120\/1000\); revoked accepted 0\/80 \|/,
    'a start before the kill shows as 0',
  )
  assert.match(md, /\| `jwt` \| no error \(0\/1000\); revoked accepted 80\/80 \|/)
  assert.match(md, /1\.29× \(700 → 900 µs median\)/)
  assert.match(
    md,
    /Failover \(standalone, cluster\): 0 revoked credentials accepted in the modes that must refuse them, 0 sessions lost/,
  )
  assert.match(renderHtml(r), /no replica: no WAIT/)
})

test('with same-window ratios, the cost table leads with them, the summary states both noise floors and lists every mode, and within-noise ratios are marked', () => {
  const r = withSameWindow(synthetic())
  assert.deepEqual(validateResults(r), [])
  const md = renderMarkdown(r)
  assert.match(md, /\| mode \| replica CPU vs none, same window \(95 % CI\) \|/)
  assert.match(
    md,
    /Noise floor \(same window, `none` against itself, warm tokens\): ±3\.0 % at 1 replica\(s\), ±3\.0 % at 2/,
  )
  const listed = md.split('\n').find((l) => l.includes('Replica CPU per request vs `none`, same window'))!
  for (const m of MODES.filter((x) => x !== 'none')) assert.match(listed, new RegExp(`\`${m}\``))
  assert.match(listed, /`jwt` 1\.10× \[1\.04–1\.16\] \(within noise\)/)
  assert.match(md, /Same-window A\/A control \(`none` on both services, 12 repetitions of 0\.75 s\)/)
  assert.match(
    md,
    /\| mode \| @1 \| @2 \|\n\| - \| - \| - \|\n\| `jwt` \| 1\.10× \[1\.04–1\.16\] \(within noise\) \| 1\.10×/,
    'the same-window ratios by replica count',
  )
  // Throughput where the core is the bottleneck is the inverse of server CPU: 1 / 1.25 = 0.80,
  // its interval the inverse of est()'s [1.19–1.31].
  assert.match(
    md,
    /\| mode \| @1 capacity vs `none` \| @1 wake-ups \/ request \(mode \/ `none`\) \| @2 capacity vs `none` \|/,
  )
  assert.match(md, /\| `session` \| 0\.80× \[0\.76–0\.84\] \| 0\.80 \/ 0\.30 \|/)
  assert.match(md, /\| A\/A \(`none` on both sides\) \| 1\.00× \(±4\.0 %\) \| – \|/)
})
