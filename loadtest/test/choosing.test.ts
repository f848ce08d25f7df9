import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import type { ModePlan } from '../src/planner.ts'
import { CHOOSING, latestPublished, publication, publishedName, REPO_ROOT } from '../src/publish.ts'
import { context } from '../src/report/choosing/context.ts'
import { lifetimeFigures } from '../src/report/choosing/table-claims.ts'
import { CLAIMS, choosingPage } from '../src/report/choosing.ts'
import type { Results } from '../src/results.ts'
import { synthetic, withPeers, withSameWindow } from './fixtures.ts'

// CI clones the repository with the shared specification beside it.
const CLAIMS_FILE = join(REPO_ROOT, '..', 'shared', 'spec', 'claims.md')
const LINK = 'results/run.md'

/** The claims file's comparison-table rows (first cell) and its "other claims" bullets. */
function parseClaims(text: string): { rows: string[]; bullets: string[] } {
  const section = (heading: string) => {
    const start = text.indexOf(heading)
    const end = text.indexOf('\n## ', start + 1)
    return text.slice(start, end < 0 ? undefined : end)
  }
  const rows = section('## The comparison table')
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| row '))
    .map((l) => l.split('|')[1]!.trim())
  // A bullet may wrap onto indented lines; its first line is enough to name it.
  const bullets = section('## Other claims')
    .split('\n')
    .filter((l) => l.startsWith('- '))
    .map((l) => l.slice(2))
  return { rows, bullets }
}

const fixture = () => withPeers(withSameWindow(synthetic()))

test("the page restates every row of the articles' comparison table and every one of their other claims, and nothing else", async () => {
  const { rows, bullets } = parseClaims(await readFile(CLAIMS_FILE, 'utf8'))
  assert.ok(rows.length >= 7 && bullets.length >= 6, 'the claims file parsed')
  const ourRows = CLAIMS.flatMap((c) => ('row' in c.source ? [c.source.row] : []))
  const ourBullets = CLAIMS.flatMap((c) => ('bullet' in c.source ? [c.source.bullet] : []))
  assert.deepEqual(ourRows, rows)
  assert.equal(ourBullets.length, bullets.length)
  for (const [i, start] of ourBullets.entries())
    assert.ok(bullets[i]!.startsWith(start), `${start} … is bullet ${i + 1}`)
  const page = choosingPage(fixture(), LINK)
  for (const claim of CLAIMS) {
    assert.ok(page.includes(`. ${claim.title}\n`), claim.title)
    assert.ok(page.includes(claim.said), claim.title)
  }
})

test('every claim gets a verdict: holds, holds only under a condition, does not hold, or not measured in this run', () => {
  for (const r of [fixture(), synthetic()]) {
    const sections = choosingPage(r, LINK).split('\n## ').slice(1)
    assert.equal(sections.length, CLAIMS.length)
    for (const s of sections)
      assert.match(
        s,
        /\*\*Verdict: (holds|holds only under a condition|does not hold|not measured in this run)[,.]/,
      )
  }
})

test('a field the run lacks renders as "not measured in this run" and names what measures it, instead of failing', () => {
  const page = choosingPage(synthetic(), LINK)
  assert.match(
    page,
    /Bytes per credential and per request: not measured in this run\. The bench's size phase/,
  )
  assert.match(page, /not measured in this run; the planner \(`pnpm plan`\)/)
  assert.match(page, /token lifetime costs in refreshes: not measured in this run/)
})

test('the figures come from the results: changing a measured value changes the page, and every figure links to the run', () => {
  const r = fixture()
  const before = choosingPage(r, LINK)
  r.revocation['session-cached']!.windowMsP99 = 777
  r.revocation['session-cached']!.windowMsMax = 778
  const session = r.runs.find((x) => x.replicas === 1)!.modes.session!
  session.sameWindow!.replicaCpu = { median: 1.91, lo: 1.87, hi: 1.95 }
  const after = choosingPage(r, LINK)
  assert.notEqual(after, before)
  assert.match(
    after,
    /\[p99 777 ms, max 778 ms\]\(results\/run\.md#revocation-window-after-logout-all-per-replica\)/,
  )
  assert.match(after, /`session` \[1\.91× \[1\.87–1\.95\]\]\(results\/run\.md#decision-table\)/)
  assert.ok(!before.includes('777 ms'))
})

test('the verdicts follow the numbers: "sessions are heavy" holds only with warm tokens when cold JWTs cost more, and holds when they do not', () => {
  const r = fixture()
  const cold = r.runs.find((x) => x.tokenProfile === 'cold')!
  cold.modes.jwt!.sameWindow!.replicaCpu = { median: 2, lo: 1.9, hi: 2.1 }
  cold.modes.session!.sameWindow!.replicaCpu = { median: 1.5, lo: 1.45, hi: 1.55 }
  for (const run of r.runs.filter((x) => x.tokenProfile === 'warm'))
    run.modes.session!.sameWindow!.replicaCpu = { median: 1.5, lo: 1.45, hi: 1.55 }
  const heavy = (page: string) => page.split('\n## ').find((s) => /^\d+\. Sessions are heavy/.test(s))!
  assert.match(
    heavy(choosingPage(r, LINK)),
    /Verdict: holds only under a condition\.\*\* Holds only while replicas verify tokens/,
  )
  cold.modes.jwt!.sameWindow!.replicaCpu = { median: 1.1, lo: 1.05, hi: 1.15 }
  assert.match(heavy(choosingPage(r, LINK)), /Verdict: holds\.\*\* Holds: `session` cost the replicas more/)
})

test('the size, token-lifetime and planner figures appear once the run has them', () => {
  const r = fixture()
  // The context first: its anchors come from the run page, whose sections for these fields are not
  // this test's subject; the checks read the fields when called.
  const c = context(r, LINK, {
    workload: '10,000 req/s, 1,000,000 active users',
    plans: [
      {
        mode: 'session',
        replicas: 12,
        redisCores: 0.8,
        redisShards: 1,
        firstBottleneck: { part: 'one Redis primary', atRps: 40000 },
      },
    ] as unknown as ModePlan[],
  })
  // Only what the page reads of the size phase.
  r.size = {
    claims: ['iss', 'sub', 'aud', 'exp', 'roles'],
    credentialBytes: { session: 47, jwt: 290 },
    tokens: [
      {
        algorithm: 'EdDSA',
        claims: '+50 claims',
        addedClaims: 50,
        tokenBytes: 1900,
        authorizationBytes: 1931,
      },
    ],
    wire: [{ mode: 'jwt', requests: 10, requestBytes: 470, responseBytes: 90, failed: 0 }],
  } as unknown as Results['size']
  // Only what the page reads of a token-lifetime point.
  r.tokenLifetime = {
    points: [{ ttlS: 300, per1000Users: { refreshesPerS: 1000 / 300, cpuMsPerS: 1220 / 300 } }],
  } as unknown as Results['tokenLifetime']
  const check = (title: string) => CLAIMS.find((x) => x.title.startsWith(title))!.check(c)
  const size = check('A session id is small')
  assert.equal(size.verdict, 'holds')
  assert.equal(size.short, 'a JWT weighed 290 bytes, a session cookie 47')
  const sizes = size.figures.join('\n')
  assert.match(sizes, /`session` \[47 bytes\]\(results\/run\.md\), `jwt` \[290 bytes\]/)
  assert.match(sizes, /EdDSA token with \+50 claims: \[1,931 bytes\]/)
  assert.match(sizes, /`jwt`: \[470 bytes\]\(results\/run\.md\) per request at the gateway/)
  assert.match(
    lifetimeFigures(c).join('\n'),
    /300 s: \[3\.33 refreshes\/s, 4\.07 core-ms\/s\]\(results\/run\.md/,
  )
  assert.match(
    check('Sessions are harder to scale').figures.join('\n'),
    /the planner \(`pnpm plan`\) for 10,000 req\/s, 1,000,000 active users: `session` 12 replicas, 0\.80 Redis cores \(1 primary\)/,
  )
})

test('the page names no absolute path and links nothing outside the repository', () => {
  for (const r of [fixture(), synthetic()]) {
    const page = choosingPage(r, LINK)
    assert.doesNotMatch(page, /\/(work|tmp|home|root|Users)\/|\.\.\/shared|https?:\/\//)
    for (const [, target] of page.matchAll(/\]\(([^)]+)\)/g))
      assert.ok(
        target!.startsWith('#') ||
          target!.startsWith('results/') ||
          /^(\.\.\/README\.md|[\w-]+\.md)(#|$)/.test(target!),
        target,
      )
  }
})

test('docs/choosing.md is what the latest published run generates, linking its run page', async () => {
  const latest = await latestPublished()
  assert.ok(latest, 'docs/results holds a published run')
  const page = await readFile(join(REPO_ROOT, CHOOSING), 'utf8')
  assert.equal(publication(latest).get(CHOOSING), page)
  assert.ok(page.includes(`](results/${publishedName(latest)}.md`))
})
