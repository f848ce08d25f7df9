import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parsePlanArgs, planText, UsageError } from '../src/plan.ts'
import { plan, type Workload } from '../src/planner.ts'
import { latestPublished, publication, REPO_ROOT } from '../src/publish.ts'
import { PLANNING, planningPage } from '../src/report/planning.ts'
import type { Results } from '../src/results.ts'
import { synthetic } from './fixtures.ts'

const storage = {
  sessions: [{ count: 1000, bytesPerEntry: 320, memoryUsageOfOneKey: 300 }],
  revocations: [{ count: 1000, bytesPerEntry: 300, liveSetBytes: 300_000 }],
  revocationSet: [],
} as unknown as Results['storage']

const tokenLifetime = {
  perRefresh: { fromTtlS: 30, authUs: 300, postgresUs: 200, redisUs: 10 },
  points: [{ ttlS: 30, postgresPerRefresh: { commits: 1 } }],
} as unknown as Results['tokenLifetime']

const workload: Workload = {
  rps: 1e5,
  activeUsers: 1e6,
  loginsPerS: 10,
  revocationsPerS: 10,
  ttlS: 300,
  coresPerReplica: 1,
  utilization: 0.5,
}

test('the planner multiplies measured costs by the workload: replica cores from µs per request, memory from bytes per session, one refresh per active user per token lifetime', () => {
  const r = { ...synthetic(), storage, tokenLifetime }
  const plans = new Map(plan(r, workload).map((p) => [p.mode, p]))
  const cal = r.capacityModel.calibration!
  const jwt = plans.get('jwt')!
  assert.ok(
    Math.abs(
      jwt.replicaCores -
        (1e5 * cal.modes.jwt!.replicaUsPerRequest) / 1e6 / 0.5 -
        (jwt.replicas * cal.idle.replicaUsPerS) / 1e6,
    ) < 1e-9,
  )
  assert.equal(plans.get('session')!.redisMemoryBytes, 1e6 * 320, 'a live session per active user')
  assert.equal(jwt.redisMemoryBytes, 0, 'jwt keeps nothing in Redis')
  assert.equal(plans.get('jwt-pushed')!.redisMemoryBytes, 10 * 300 * 300, 'revocations kept a token lifetime')
  assert.equal(jwt.refreshesPerS, 1e6 / 300)
  assert.equal(plans.get('session')!.refreshesPerS, 0, 'a session id is not refreshed')
  assert.equal(plans.get('jwt-pushed')!.pubSubMessagesPerS, 10 * plans.get('jwt-pushed')!.replicas)
  assert.ok(
    plans.get('introspect')!.authCores > plans.get('jwt')!.authCores,
    'introspect asks auth per request',
  )
  const authCores = (10 * cal.login!.authUs + (1e6 / 300) * 300) / 1e6 / 0.5
  assert.ok(Math.abs(jwt.authCores - authCores) < 1e-9, 'logins and refreshes, at the planned utilization')
  assert.equal(jwt.postgresWritesPerS, 1e6 / 300, 'a write transaction per refresh')
  assert.ok(
    jwt.replicaCores <= jwt.replicas * workload.coresPerReplica,
    'the replicas have the cores planned',
  )
})

test('a Redis that one primary cannot carry is planned as a Redis Cluster at its primaries measured cost', () => {
  const r = synthetic()
  const cal = r.capacityModel.calibration!
  const at = (rps: number) => plan(r, { ...workload, rps }).find((p) => p.mode === 'session')!
  assert.equal(at(1e3).redisShards, 1)
  const big = at(1e7)
  const cores = (1e7 * cal.modes.session!.redisCommandsPerRequest * cal.redisCluster!.usPerCommand) / 1e6
  assert.ok(big.redisShards >= Math.ceil(cores / 0.5) && big.redisShards > 1)
})

test('pnpm plan prints a row per calibrated mode and each column assumption, and refuses a bad workload with a usage error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'authlab-plan-'))
  try {
    const file = join(dir, 'results.json')
    await writeFile(file, JSON.stringify(synthetic()))
    const out = await planText(['--results', file, '--rps', '10000000', '--active-users', '100000000'])
    for (const mode of Object.keys(synthetic().capacityModel.calibration!.modes))
      assert.match(out, new RegExp(`\\| \`${mode}\` +\\|`), `${mode} has a row`)
    assert.match(out, /Each column assumes:/)
    assert.match(out, /10 Mreq\/s, 100 M active users/)
    assert.throws(() => parsePlanArgs(['--rps', '-5']), UsageError)
    assert.throws(() => parsePlanArgs(['--utilization', '2']), UsageError)
    assert.throws(() => parsePlanArgs(['--bogus']), UsageError)
    await assert.rejects(planText(['--results', join(dir, 'missing.json')]))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('docs/planning.md lists the model checks with their ratios and the tables for 10³, 10⁵ and 10⁷ req/s at 10⁶ and 10⁸ users', () => {
  const page = planningPage(synthetic(), 'results/run.md')
  assert.match(page, /\| replicas +\| `jwt` +\|.*0\.95×/)
  assert.match(page, /\| redis-cluster +\|.*1\.05×/)
  for (const rate of ['1 kreq/s', '100 kreq/s', '10 Mreq/s'])
    for (const users of ['1 M active users', '100 M active users'])
      assert.ok(page.includes(`### ${rate}, ${users}`), `${rate}, ${users}`)
  assert.doesNotMatch(page, /\/work\/|\/tmp\/|\/home\//, 'no machine path')
})

test('docs/planning.md is what the latest published run generates, with its three model checks', async () => {
  const latest = await latestPublished()
  assert.ok(latest?.capacityModel.calibration, 'the latest published run has a capacity calibration')
  const page = await readFile(join(REPO_ROOT, PLANNING), 'utf8')
  assert.equal(publication(latest).get(PLANNING), page)
  assert.deepEqual(
    latest.capacityModel.checks?.map((c) => c.name),
    ['replicas', 'redis', 'redis-cluster'],
  )
})
