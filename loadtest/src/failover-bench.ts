#!/usr/bin/env node
// `pnpm failover`: for each Redis topology, a cluster of 2 replicas per service is started, the
// primary holding the revocation keys is killed under load (loadtest/src/failover.ts), and the cost
// of acknowledging writes only once a replica has them (WAIT) is measured on the same servers.
// Writes loadtest/results/failover-<time>/failover.json and failover.md (the README's table).
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createRedis, redisReady, redisTopology } from '@authlab/clients'
import { startCluster, UNLIMITED_LOGINS_ENV } from '@authlab/cluster'
import { RevocationWriter } from '@authlab/revocation'
import type { RedisTopology, RedisTopologyMode } from '@authlab/servers'
import { type FailoverOutcome, runFailover } from './failover.ts'

const { values } = parseArgs({
  options: {
    topologies: { type: 'string', default: 'standalone,sentinel,cluster' },
    quick: { type: 'boolean', default: false },
  },
})
const topologies = values.topologies.split(',') as ('standalone' | 'sentinel' | 'cluster')[]
const BOUNDS = { sessionCacheTtlMs: 2000, pushedMaxStalenessMs: 2000 }
const ENV = {
  ACCESS_TOKEN_TTL_S: '300',
  SESSION_CACHE_TTL_MS: String(BOUNDS.sessionCacheTtlMs),
  PUSHED_MAX_STALENESS_MS: String(BOUNDS.pushedMaxStalenessMs),
  ...UNLIMITED_LOGINS_ENV,
}

interface WaitCost {
  /** Median µs of one revocation write (session DEL + script), without and with WAIT 1. */
  revokeUs: { wait0: number; wait1: number }
  ratio: number
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN

/** The same writes through the same connection, WAIT off and on, interleaved in blocks. */
async function waitCost(topology: RedisTopology, blocks: number): Promise<WaitCost> {
  const redis = createRedis({
    ...redisTopology({
      REDIS_SENTINELS: '',
      REDIS_SENTINEL_NAME: 'authlab',
      REDIS_CLUSTER_NODES: '',
      ...(topology.envFor('auth') as { REDIS_URL: string; REDIS_MODE: RedisTopologyMode }),
    }),
    commandTimeoutMs: 2000,
  })
  redis.on('error', () => {})
  await redisReady(redis, 10_000)
  const writers = [
    new RevocationWriter(redis),
    new RevocationWriter(redis, { waitReplicas: 1, waitTimeoutMs: 1000 }),
  ]
  const samples: [number[], number[]] = [[], []]
  try {
    for (let b = 0; b < blocks; b++) {
      for (const w of b % 2 === 0 ? [0, 1] : [1, 0]) {
        for (let i = 0; i < 20; i++) {
          const id = `bench-${b}-${w}-${i}`
          const started = process.hrtime.bigint()
          await writers[w]!.revoke({
            entries: [{ kind: 'login', value: id, expiresAt: Date.now() + 60_000 }],
            sessionHashes: [id],
            watermark: 0,
          })
          samples[w]!.push(Number(process.hrtime.bigint() - started) / 1000)
        }
      }
    }
  } finally {
    redis.disconnect()
  }
  const wait0 = median(samples[0])
  const wait1 = median(samples[1])
  return { revokeUs: { wait0, wait1 }, ratio: wait1 / wait0 }
}

const results: { topology: string; outcome: FailoverOutcome; waitCost?: WaitCost }[] = []
for (const redisMode of topologies) {
  console.log(`… ${redisMode}: starting`)
  const cluster = await startCluster({ replicas: 2, port: 0, redisMode, env: ENV })
  try {
    const cost =
      redisMode === 'standalone' ? undefined : await waitCost(cluster.topology, values.quick ? 4 : 20)
    console.log(`… ${redisMode}: killing the primary under load`)
    const outcome = await runFailover(cluster, {
      beforeMs: values.quick ? 1000 : 3000,
      afterMs: values.quick ? 1000 : 3000,
      users: 12,
      bounds: BOUNDS,
      run: `bench-${redisMode}-${Date.now()}`,
    })
    results.push({ topology: redisMode, outcome, ...(cost ? { waitCost: cost } : {}) })
  } finally {
    await cluster.close()
  }
}

const MODES = ['session', 'session-cached', 'jwt-denylist', 'jwt-pushed', 'introspect', 'jwt'] as const
const rows: string[] = []
rows.push(`| mode | ${results.map((r) => r.topology).join(' | ')} |`)
rows.push(`|---|${results.map(() => '---').join('|')}|`)
for (const m of MODES) {
  rows.push(
    `| \`${m}\` | ` +
      results
        .map(({ outcome: o }) => {
          const x = o.modes[m]
          const when =
            x.errorsFromMs === undefined
              ? 'no error'
              : // A request sent just before the kill can fail: its start is shown as 0.
                `${(Math.max(0, x.errorsFromMs) / 1000).toFixed(1)}–${((x.errorsUntilMs ?? 0) / 1000).toFixed(1)} s`
          return `${when} (${x.errors}/${x.requests}); revoked accepted ${x.revokedAccepted}/${x.revokedProbes}`
        })
        .join(' | ') +
      ' |',
  )
}
rows.push(
  `| Redis back after | ${results.map((r) => `${(r.outcome.recoveryMs / 1000).toFixed(1)} s`).join(' | ')} |`,
)
rows.push(
  `| sessions lost | ${results.map((r) => `${r.outcome.sessionsLost} of ${r.outcome.sessionsBefore} (${r.outcome.sessionsOnKilledPrimary} on the killed primary)`).join(' | ')} |`,
)
rows.push(
  `| logouts during the run | ${results.map((r) => `${r.outcome.revocations.acknowledged} of ${r.outcome.revocations.attempted} acknowledged`).join(' | ')} |`,
)
rows.push(
  `| revocation write with WAIT 1 | ${results.map((r) => (r.waitCost ? `${r.waitCost.ratio.toFixed(2)}× (${r.waitCost.revokeUs.wait0.toFixed(0)} → ${r.waitCost.revokeUs.wait1.toFixed(0)} µs median)` : 'no replica: no WAIT')).join(' | ')} |`,
)
const faults = results.map((r) => `- **${r.topology}**: ${r.outcome.fault}.`).join('\n')
const markdown = `${rows.join('\n')}\n\n${faults}\n`
const dir = join(
  'loadtest',
  'results',
  `failover-${new Date().toISOString().replaceAll(':', '-').replace('.', '-')}`,
)
await mkdir(dir, { recursive: true })
const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version }
await writeFile(
  join(dir, 'failover.json'),
  `${JSON.stringify({ machine, startedAt: new Date().toISOString(), results }, null, 2)}\n`,
)
await writeFile(join(dir, 'failover.md'), markdown)
console.log(markdown)
console.log(`written to ${dir}`)
