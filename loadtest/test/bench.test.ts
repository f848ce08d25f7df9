import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { EVENTUAL_REVOCATION, IMMEDIATE_REVOCATION, MODES, PEER_ROWS } from '../lib/scenarios.js'
import { runBench } from '../src/bench.ts'
import type { RevocationSummary } from '../src/results.ts'
import { validateResults } from '../src/schema.ts'

// The smoke profile of `pnpm bench` against a real native cluster, run once for the tests below.
// They assert correctness only: what was accepted after a revocation, that the output is complete
// and valid. Never timings.
let out: string
let bench: Awaited<ReturnType<typeof runBench>>
const progress: string[] = []
before(async () => {
  out = await mkdtemp(join(tmpdir(), 'authlab-bench-test-'))
  bench = await runBench({ profile: 'smoke', outDir: out, log: (l) => progress.push(l) })
})
after(() => out && rm(out, { recursive: true, force: true }))

test('the smoke bench writes schema-valid results in which no immediate mode accepts anything after logout-all or grants a withdrawn role, and the eventual modes converge on every replica', (t) => {
  for (const line of progress) t.diagnostic(line)
  const { results, dir } = bench

  const written = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'))
  assert.deepEqual(validateResults(written), [])
  assert.ok(existsSync(join(dir, 'report.md')) && existsSync(join(dir, 'report.html')))
  assert.match(readFileSync(join(dir, 'report.html'), 'utf8'), /<svg /, 'charts are inline SVG')

  for (const mode of MODES) assert.ok(results.runs[0]?.modes[mode], `${mode} was measured`)
  // The same-window design ran: every mode but none has a ratio, and the A/A control has one.
  const run = results.runs[0]!
  assert.ok(run.sameWindow && Number.isFinite(run.sameWindow.aa.median), 'same-window A/A measured')
  for (const mode of MODES.filter((m) => m !== 'none')) {
    const same = run.modes[mode]!.sameWindow!
    assert.ok(same.replicaCpu.median > 0, `${mode} has a same-window ratio`)
    assert.ok(same.serverCpu!.median > 0, `${mode} has a same-window server-core ratio`)
    // Read from /proc: a replica that answered requests was woken at least once in the window.
    assert.ok(same.wakeups!.mode.median > 0 && same.wakeups!.none.median > 0, `${mode}'s wake-ups counted`)
  }
  const replicas = 2 * (results.settings.replicaSweep as number[])[0]!
  for (const mode of IMMEDIATE_REVOCATION) {
    assert.equal(
      results.revocation[mode]?.acceptedAfterRevoke,
      0,
      `${mode} accepted nothing after logout-all`,
    )
    assert.equal(results.revocation[mode]?.replicasSeen, replicas, `${mode} was probed on every replica`)
  }
  for (const mode of EVENTUAL_REVOCATION) {
    const r = results.revocation[mode]!
    assert.equal(r.replicasSeen, replicas)
    // Converged: acceptance stopped well before the probe window ended, on every replica.
    assert.ok(
      r.windowMsMax < (results.settings.revocationWindowMs as number) - 300,
      `${mode} converged (${r.windowMsMax} ms)`,
    )
  }
  assert.ok(results.revocation['jwt-pushed']!.windowMsMax < (results.settings.pushedMaxStalenessMs as number))
  // A withdrawn role: the same bounds as a revocation, on every replica; plain jwt keeps it until exp.
  const permission = results.permissionChange!
  for (const mode of IMMEDIATE_REVOCATION) {
    assert.equal(permission[mode]?.acceptedAfterRevoke, 0, `${mode} granted nothing after the role change`)
    assert.equal(permission[mode]?.replicasSeen, replicas, `${mode} was probed on every replica`)
  }
  for (const mode of EVENTUAL_REVOCATION) {
    assert.ok(
      permission[mode]!.windowMsMax < (results.settings.revocationWindowMs as number) - 300,
      `${mode} converged after the role change (${permission[mode]!.windowMsMax} ms)`,
    )
  }
  assert.ok(permission.jwt!.acceptedAfterRevoke > 0, 'the control: jwt kept the withdrawn role')
  // phantom with its cache off: every request reached auth through nginx's subrequest.
  const uncached = results.phantomUncached!
  assert.ok(
    uncached.authCpuUsPerRequest > 0 && uncached.nginxCpuUsPerRequest > 0,
    'phantom uncached measured',
  )
  assert.ok(uncached.redisCommandsPerRequest > 0, 'each exchange read the session in Redis')
  assert.ok(results.storage && results.storage.sessions.length > 0, 'the storage phase ran')
  const lifetime = results.tokenLifetime?.points ?? []
  assert.ok(
    lifetime.length > 0 && lifetime.every((p) => p.refreshes > 0 && p.errors === 0),
    'the token-lifetime phase rotated refresh tokens at each lifetime',
  )
  const report = readFileSync(join(dir, 'report.md'), 'utf8')
  for (const section of [
    'phantom: what the gateway cache buys',
    'Storage: what sessions and revocations cost',
    "Token lifetime: what jwt's revocation window costs in refreshes",
  ])
    assert.match(report, new RegExp(`## ${section}`), `the report has "${section}"`)
  for (const [scenario, byMode] of Object.entries(results.faults)) {
    for (const [mode, outcome] of Object.entries(byMode)) {
      assert.equal(outcome.revokedAccepted, 0, `${scenario}: a revoked credential was accepted in ${mode}`)
    }
  }
  assert.deepEqual(Object.keys(results.faults).sort(), [
    'auth-stopped',
    'redis-data-lost',
    'redis-stopped',
    'replica-killed',
  ])
})

// With a standalone Redis the textbook peer runs: both rows measured in the same windows as the
// modes, and its probe shows what the tutorial code cannot revoke, on every peer replica.
test('the smoke bench measures textbook-session and textbook-jwt with a same-window ratio, kept out of the modes', () => {
  const { results } = bench
  const run = results.runs[0]!
  for (const row of PEER_ROWS) {
    const peer = run.peers?.[row]
    assert.ok(peer, `${row} was measured`)
    assert.ok(peer.sameWindow!.replicaCpu.median > 0, `${row} has a same-window ratio`)
    assert.ok(peer.rps > 0 && Number.isFinite(peer.p95Ms), `${row} has throughput and latency`)
    assert.ok(!(row in run.modes), `${row} is kept out of the modes`)
  }
  assert.ok(!(PEER_ROWS as readonly string[]).some((row) => row in results.revocation))
})

test("the smoke bench's peer probe shows the tutorial JWT accepted after logout, and the user's other textbook session and both JWTs accepted after logout-all, on every textbook replica, while authlab's session and jwt-denylist refuse", () => {
  const probe = bench.results.peerProbe
  const replicas = (bench.results.settings.replicaSweep as number[])[0]!
  assert.ok(probe, 'the peer probe ran')
  assert.equal(probe.replicas, replicas)
  const everywhere = (name: string, s: RevocationSummary | undefined) => {
    assert.equal(s?.replicasSeen, replicas, `${name} was probed on every textbook replica`)
    assert.equal(s?.replicasAcceptingAfterRevoke, replicas, `${name} was still accepted on every replica`)
  }
  everywhere('the JWT after its logout', probe.logout['textbook-jwt'])
  assert.equal(probe.logout['textbook-session']?.acceptedAfterRevoke, 0, 'the session ended at logout')
  everywhere('the other session after logout-all', probe.logoutAll['other-session'])
  everywhere('the logged-out JWT after logout-all', probe.logoutAll['logged-out-jwt'])
  everywhere("the other login's JWT after logout-all", probe.logoutAll['other-jwt'])
  assert.equal(probe.logoutAll['logged-out-session']?.acceptedAfterRevoke, 0)
  for (const mode of ['authlab-session', 'authlab-jwt-denylist'])
    assert.equal(probe.logoutAll[mode]?.acceptedAfterRevoke, 0, `${mode} refused after logout-all`)
})

test('a results document missing a required field fails the schema', () => {
  assert.notDeepEqual(validateResults({ machine: { cpus: 2, node: '24' }, profile: 'quick', runs: [] }), [])
})
