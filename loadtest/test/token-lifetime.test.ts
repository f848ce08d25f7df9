import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { type Cluster, startCluster, UNLIMITED_LOGINS_ENV } from '@authlab/cluster'
import { userEmail } from '../lib/scenarios.js'
import { login, refresh } from '../src/credentials.ts'
import { renderMarkdown, reportBlocks } from '../src/report.ts'
import { validateResults } from '../src/schema.ts'
import { measureTokenLifetime, pacedRefreshes } from '../src/token-lifetime.ts'
import { synthetic } from './fixtures.ts'

// A real native cluster (auth, Postgres, Redis, nginx, one orders replica): the figures exist, come
// from real rotations and have the right shape. Never their size.
let cluster: Cluster
before(async () => {
  cluster = await startCluster({
    replicas: 1,
    services: ['orders'],
    port: 0,
    env: { ...UNLIMITED_LOGINS_ENV },
  })
})
after(() => cluster?.close())

test('paced refreshes rotate each login in turn, never two at once, and hand back the successors', async () => {
  const pool = [
    await login(cluster.url, userEmail('ttl-paced', 0)),
    await login(cluster.url, userEmail('ttl-paced', 1)),
  ]
  const first = pool.map((l) => l.refreshToken)
  // A far higher rate than two logins can serve one at a time: the pool bounds what is in flight.
  const done = await pacedRefreshes(cluster.url, pool, 500, 12)
  assert.deepEqual([done.ok, done.errors], [12, 0])
  assert.equal(pool.length, 2)
  for (const l of pool) assert.ok(!first.includes(l.refreshToken), 'each login holds its latest successor')
  for (const l of pool) await refresh(cluster.url, l)
})

test('each lifetime is refreshed at its own rate, and what the refreshes cost is read from auth, Postgres and Redis', async () => {
  const run = await measureTokenLifetime({
    base: cluster.url,
    cluster,
    ttlsS: [30, 300],
    activeUsers: 300,
    windowS: 0.5,
    minRefreshes: 6,
    logins: 3,
    run: `ttl-${Date.now()}`,
    log: () => {},
  })
  assert.deepEqual(
    run.points.map((p) => [p.ttlS, p.targetPerS, p.refreshes, p.errors]),
    [
      [30, 10, 6, 0],
      [300, 1, 6, 0],
    ],
  )
  assert.equal(run.perRefresh?.fromTtlS, 30, 'the planner gets the point at the highest rate')
  for (const p of run.points) {
    assert.equal(p.per1000Users.refreshesPerS, 1000 / p.ttlS)
    assert.ok(p.cpuUsPerRefresh.auth > 0, 'auth did work for the refreshes')
    // Each rotation inserts its successor and spends its predecessor, in one write transaction.
    const pg = p.postgresPerRefresh
    assert.ok(pg.tupInserted > 0.5 && pg.tupUpdated > 0.5, "the WAL holds the rotation's rows")
    assert.ok(pg.commits > 0.5 && pg.walRecords > pg.tupInserted && pg.walBytes > 0)
  }
  const results = { ...synthetic(), tokenLifetime: run }
  assert.deepEqual(validateResults(JSON.parse(JSON.stringify(results))), [])
  const md = renderMarkdown(results)
  assert.match(md, /## Token lifetime: what jwt's revocation window costs in refreshes/)
  const drawn = reportBlocks(results).find((b) => b.kind === 'chart' && b.name === 'token-lifetime')
  assert.ok(drawn?.kind === 'chart', 'the chart is drawn')
  for (const label of [
    'jwt, 30 s lifetime',
    'jwt, 300 s lifetime',
    'jwt-pushed (p99 window)',
    'session (p99 window)',
  ])
    assert.ok(drawn.svg.includes(label), `the chart has ${label}`)
  assert.doesNotMatch(
    renderMarkdown(synthetic()),
    /## Token lifetime/,
    'absent from a run that did not measure it',
  )
})
