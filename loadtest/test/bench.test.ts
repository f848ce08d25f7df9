import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { EVENTUAL_REVOCATION, IMMEDIATE_REVOCATION, MODES } from '../lib/scenarios.js'
import { runBench } from '../src/bench.ts'
import { validateResults } from '../src/schema.ts'

// The smoke profile of `pnpm bench` against a real native cluster. It asserts correctness only:
// what was accepted after a revocation, that the output is complete and valid. Never timings.
test('the smoke bench writes schema-valid results in which no immediate mode accepts anything after logout-all or grants a withdrawn role, and the eventual modes converge on every replica', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'authlab-bench-test-'))
  t.after(() => rm(out, { recursive: true, force: true }))
  const { results, dir } = await runBench({
    profile: 'smoke',
    outDir: out,
    log: (l) => t.diagnostic(l),
  })

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

test('a results document missing a required field fails the schema', () => {
  assert.notDeepEqual(validateResults({ machine: { cpus: 2, node: '24' }, profile: 'quick', runs: [] }), [])
})
