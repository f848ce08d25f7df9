import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startCluster, UNLIMITED_LOGINS_ENV } from '@authlab/cluster'
import { FAILOVER_MODES, runFailover } from '../src/failover.ts'

/*
 * The quick form of `pnpm failover` (loadtest/src/failover-bench.ts): for each replicated
 * topology, the primary holding the revocation keys is killed under steady traffic on every mode
 * while logins are revoked, and the claims of the README's "Beyond one machine" table are checked.
 */
const BOUNDS = { sessionCacheTtlMs: 1000, pushedMaxStalenessMs: 1500 }
export const FAILOVER_ENV = {
  ACCESS_TOKEN_TTL_S: '300',
  SESSION_CACHE_TTL_MS: String(BOUNDS.sessionCacheTtlMs),
  PUSHED_MAX_STALENESS_MS: String(BOUNDS.pushedMaxStalenessMs),
  RECONCILE_INTERVAL_MS: '500',
  ...UNLIMITED_LOGINS_ENV,
}

for (const redisMode of ['sentinel', 'cluster'] as const) {
  test(`Redis ${redisMode}: killing the primary under load loses no session and lets no revoked credential through, before, during or after the failover`, {
    timeout: 240_000,
  }, async (t) => {
    const cluster = await startCluster({ replicas: 2, port: 0, redisMode, env: FAILOVER_ENV })
    t.after(() => cluster.close())
    const outcome = await runFailover(cluster, {
      beforeMs: 1000,
      afterMs: 1500,
      users: 6,
      bounds: BOUNDS,
      run: `test-${redisMode}`,
    })
    t.diagnostic(JSON.stringify(outcome))
    assert.equal(outcome.topology, redisMode)
    assert.ok(outcome.revocations.acknowledged > 0, 'logouts were acknowledged during the run')
    for (const mode of FAILOVER_MODES) {
      const m = outcome.modes[mode]
      assert.ok(m && m.requests > 0, `${mode} saw traffic`)
      assert.ok(m.revokedProbes > 0, `${mode} was probed with revoked credentials`)
      if (mode === 'jwt') {
        // The control: stateless JWTs stay valid until exp, so the prober does see acceptances.
        assert.ok(m.revokedAccepted > 0, 'jwt (the control) accepts revoked tokens')
        assert.equal(m.errors, 0, 'jwt does not depend on Redis')
      } else assert.equal(m.revokedAccepted, 0, `${mode} accepted a revoked credential`)
    }
    assert.equal(outcome.sessionsLost, 0, 'every session acknowledged before the failover survives it')
    assert.ok(outcome.sessionsOnKilledPrimary > 0, 'some sessions lived on the killed primary')
  })
}
