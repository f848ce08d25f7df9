import type { ModeRun, Results } from '../../results.ts'
import type { TokenLifetimeRun } from '../../token-lifetime-results.ts'
import { type LifetimeChartPoint, lifetimeChart } from '../charts/lifetime.ts'
import { duration } from '../charts/svg.ts'
import { decisionRun, f0, f1, f2, finite } from '../format.ts'
import { type Block, chart } from '../model.ts'

/**
 * Replica and Redis CPU µs per request over `none`'s, in the decision run: the replicas' part from
 * the same-window ratio (the host's speed changes cancel there) applied to `none`'s µs, Redis's
 * from the sequential windows; the sequential replica µs where no same-window ratio was measured.
 */
function extraUs(r: Results, mode: string): number {
  const modes = decisionRun(r)?.modes as Record<string, ModeRun> | undefined
  const none = modes?.none
  const m = modes?.[mode]
  if (!none || !m) return Number.NaN
  const ratio = m.sameWindow?.replicaCpu.median
  const replica = finite(ratio)
    ? none.replicaCpuUsPerRequest * (ratio - 1)
    : m.replicaCpuUsPerRequest - none.replicaCpuUsPerRequest
  return replica + m.redisCpuUsPerRequest - none.redisCpuUsPerRequest
}

/**
 * Refresh CPU (core-ms/s per 1,000 users) at the lifetime the bench's cluster ran with: one
 * refresh's cost (the highest rate's point) times 1,000 users' refreshes per second.
 */
function benchLifetimeRefreshes(r: Results, t: TokenLifetimeRun): { ttlS: number; coreMsPerS: number } {
  const ttlS = Number(r.settings.accessTokenTtlS)
  const one = t.perRefresh
  if (!one || !finite(ttlS) || ttlS <= 0) return { ttlS: Number.NaN, coreMsPerS: Number.NaN }
  return { ttlS, coreMsPerS: ((one.authUs + one.postgresUs + one.redisUs) * (1000 / ttlS)) / 1000 }
}

/**
 * `jwt` at each lifetime: its per-request cost over `none` plus its refreshes. `jwt-pushed` keeps
 * the cluster's long lifetime (its window is the push, not the lifetime), whose refreshes are added.
 * `session` has no access token to refresh.
 */
export function lifetimePoints(r: Results, t: TokenLifetimeRun): LifetimeChartPoint[] {
  const perRequest = (mode: string) => extraUs(r, mode) * t.requestsPerUserPerS
  const jwt = t.points.map((p) => ({
    label: `jwt, ${duration(p.ttlS * 1000)} lifetime`,
    windowMs: p.ttlS * 1000,
    coreMsPerS: perRequest('jwt') + p.per1000Users.cpuMsPerS,
    line: true,
  }))
  const alternatives = [
    { mode: 'jwt-pushed', refresh: benchLifetimeRefreshes(r, t).coreMsPerS },
    { mode: 'session', refresh: 0 },
  ].map(({ mode, refresh }) => ({
    label: `${mode} (p99 window)`,
    windowMs: r.revocation[mode]?.windowMsP99 ?? Number.NaN,
    coreMsPerS: perRequest(mode) + refresh,
    line: false,
  }))
  return [...jwt, ...alternatives]
}

function lifetimeTable(t: TokenLifetimeRun): Block {
  return {
    kind: 'table',
    head: [
      'lifetime (= jwt window)',
      'refreshes / s (target, achieved)',
      'auth µs / refresh',
      'Postgres µs / refresh',
      'Redis µs / refresh',
      'write transactions / refresh',
      'rows inserted, updated / refresh',
      'WAL records, bytes / refresh',
      'per 1,000 users: refreshes / s',
      'core-ms / s',
      'WAL flushes / s',
    ],
    rows: t.points.map((p) => [
      duration(p.ttlS * 1000),
      `${f2(p.targetPerS)}, ${f2(p.achievedPerS)} (${f0(p.refreshes)} in ${f1(p.windowS)} s${p.errors ? `, ${f0(p.errors)} failed` : ''})`,
      f0(p.cpuUsPerRefresh.auth),
      f0(p.cpuUsPerRefresh.postgres),
      f0(p.cpuUsPerRefresh.redis),
      f2(p.postgresPerRefresh.commits),
      `${f2(p.postgresPerRefresh.tupInserted)}, ${f2(p.postgresPerRefresh.tupUpdated)}`,
      `${f1(p.postgresPerRefresh.walRecords)}, ${f0(p.postgresPerRefresh.walBytes)}`,
      f2(p.per1000Users.refreshesPerS),
      f2(p.per1000Users.cpuMsPerS),
      f2(p.per1000Users.walFlushesPerS),
    ]),
  }
}

function method(t: TokenLifetimeRun): string {
  const idle = Object.entries(t.idle.cpuMsPerS)
    .map(([tier, ms]) => `${tier} ${f2(ms)}`)
    .join(', ')
  return (
    `An active user refreshes once per access-token lifetime, so each lifetime is a refresh rate: ${f0(t.activeUsers)} simulated active users refresh at ${f0(t.activeUsers)} / lifetime per second, ` +
    `real \`POST /auth/refresh\` rotations through the gateway, paced at that fixed rate over ${f0(t.logins)} logins of their own (each refresh spends its login's token and carries on with the successor). ` +
    `Each lifetime runs at its own rate, so what does not scale with the rate shows. Around each window: CPU of auth, Postgres and Redis (\`/proc\`), the transaction ids Postgres assigned (only a writing transaction gets one), ` +
    `the WAL insert position and the WAL's records by kind (\`pg_walinspect\`; \`pg_stat_database\` and \`pg_stat_wal\` are published by each backend up to ten seconds late), ` +
    `each net of the same cluster idle (core-ms/s: ${idle}; ${f2(t.idle.commitsPerS)} write transactions/s). ` +
    "The cluster's own ACCESS_TOKEN_TTL_S is left as it is: a refresh costs the same whatever lifetime it writes into the token. " +
    "For `jwt` the revocation window is the lifetime: a revoked token is accepted until its `exp` (packages/cluster/test/cluster.test.ts, 'after logout-all: jwt keeps accepting the revoked token until exp, then rejects it')."
  )
}

const WRITES =
  'Write operations implied: one WAL flush per write transaction, the rotation (a durable Postgres with `synchronous_commit` on flushes the WAL at each such commit; group commit can merge concurrent ones, so this is an upper bound); data pages follow at checkpoints, bounded by the WAL bytes. ' +
  "The bench's Postgres runs with `fsync`, `synchronous_commit` and `full_page_writes` off, so WAL bytes here leave out full-page images, and the flushes are counted, not made. " +
  'Where a pooled login comes round again within a minute (the logins are fewer than a real population), auth skips its once-a-minute `last_used_at` update, which a real user refreshing once per lifetime of a minute or more gets on every refresh: one more row updated per refresh than the rows-updated column shows at those lifetimes.'

/** What shortening `jwt`'s lifetime costs in refreshes, against the modes that revoke without it. */
export function tokenLifetime(r: Results): Block[] {
  const t = r.tokenLifetime
  if (!t || t.points.length === 0) return []
  const points = lifetimePoints(r, t)
  const alternatives = points.filter((p) => !p.line && finite(p.coreMsPerS))
  const caption =
    `x: how long a revoked credential keeps working; y: auth, Postgres and Redis CPU per second for 1,000 active users at ${f2(t.requestsPerUserPerS)} request per user per second. ` +
    "`jwt` at each lifetime: its replica and Redis CPU per request over `none`'s (the decision run: the replicas' same-window ratio applied to `none`'s µs, Redis from the sequential windows) plus its refreshes. " +
    `\`jwt-pushed\` and \`session\` at their measured p99 window (the revocation probe) and their own replica and Redis CPU per request over \`none\`'s; \`jwt-pushed\` keeps the cluster's ${duration(benchLifetimeRefreshes(r, t).ttlS * 1000)} lifetime, whose refreshes are added; a session is never refreshed.`
  return [
    { kind: 'h2', text: "Token lifetime: what jwt's revocation window costs in refreshes" },
    { kind: 'p', text: method(t) },
    lifetimeTable(t),
    { kind: 'p', text: WRITES },
    ...chart('token-lifetime', 'Revocation window against refresh load', caption, lifetimeChart(points)),
    ...(alternatives.length === 0
      ? [
          {
            kind: 'p' as const,
            text: 'No sweep run with `none`, `jwt-pushed` and `session` in it: the alternatives are not drawn.',
          },
        ]
      : []),
  ]
}
