// What an access-token lifetime costs. An active user refreshes once per lifetime, so each lifetime
// is a refresh rate for a population: real `POST /auth/refresh` (rotation) is sent through the
// gateway at activeUsers / ttlS per second, and auth, Postgres and Redis CPU and Postgres's writes
// are read around each window, net of the idle cluster's. The cluster's own ACCESS_TOKEN_TTL_S is
// not changed: what a refresh costs does not depend on the lifetime written into the token.
import { setTimeout as sleep } from 'node:timers/promises'
import { createPool } from '@authlab/clients'
import { userEmail } from '../lib/scenarios.js'
import { type Login, login, refresh } from './credentials.ts'
import type { LifetimePoint, TokenLifetimeRun } from './token-lifetime-results.ts'

/** What the measurement reads from the native cluster. */
export interface LifetimeCluster {
  cpuTimes(): Promise<Record<string, number>>
  readonly postgres: { readonly url: string }
}

export interface LifetimeOptions {
  /** the gateway the refreshes go through */
  base: string
  cluster: LifetimeCluster
  ttlsS: readonly number[]
  activeUsers: number
  /** each point's shortest window; longer where minRefreshes at its rate need longer */
  windowS: number
  minRefreshes: number
  logins: number
  run: string
  log: (line: string) => void
}

/** Charged to the alternatives on the chart: requests per active user per second. */
export const REQUESTS_PER_USER_PER_S = 1
const TIERS = ['auth', 'postgres', 'redis', 'nginx'] as const
const RECORD_KINDS = ['walRecords', 'tupInserted', 'tupUpdated', 'tupDeleted'] as const
type Records = Record<(typeof RECORD_KINDS)[number], number>
type Db = ReturnType<typeof createPool>

/**
 * Where the WAL and the transaction ids stand, cluster-wide. Read from the WAL and the snapshot
 * rather than pg_stat_database or pg_stat_wal: a backend publishes those up to ten seconds late.
 */
const MARK_SQL = `SELECT pg_current_wal_insert_lsn()::text AS lsn,
  pg_snapshot_xmax(pg_current_snapshot())::text AS xid`
const FLUSHED_SQL = 'SELECT pg_current_wal_flush_lsn() >= $1::pg_lsn AS flushed'
const STATS_SQL = `SELECT "resource_manager/record_type" AS kind, count::float8 AS n
  FROM pg_get_wal_stats($1::pg_lsn, $2::pg_lsn, true)`

interface Mark {
  lsn: string
  xid: number
}

/** A window's deltas: CPU ms per tier, write transactions, WAL bytes and records, over `seconds`. */
interface Deltas {
  cpuMs: Record<string, number>
  seconds: number
  writeTransactions: number
  walBytes: number
  records: Records | undefined
}

/** The WAL records between two positions by kind; undefined without pg_walinspect. */
async function walRecords(db: Db, from: string, to: string): Promise<Records | undefined> {
  const zero: Records = { walRecords: 0, tupInserted: 0, tupUpdated: 0, tupDeleted: 0 }
  if (from === to) return zero
  // pg_get_wal_stats reads only flushed WAL; with synchronous_commit off the WAL writer gets there.
  for (let i = 0; i < 100; i++) {
    if ((await db.query<{ flushed: boolean }>(FLUSHED_SQL, [to])).rows[0]?.flushed) break
    await sleep(50)
  }
  const rows = (await db.query<{ kind: string; n: number }>(STATS_SQL, [from, to])).rows
  const sum = (re: RegExp) => rows.filter((r) => re.test(r.kind)).reduce((a, r) => a + r.n, 0)
  return {
    walRecords: sum(/./),
    tupInserted: sum(/^Heap\/INSERT/),
    tupUpdated: sum(/^Heap\/(HOT_)?UPDATE/),
    tupDeleted: sum(/^Heap\/DELETE/),
  }
}

/** CPU, transaction ids and WAL around `work`. */
async function around(
  cluster: LifetimeCluster,
  db: Db,
  inspect: boolean,
  work: () => Promise<unknown>,
): Promise<Deltas> {
  const mark = async (): Promise<Mark> => {
    const row = (await db.query<{ lsn: string; xid: string }>(MARK_SQL)).rows[0]
    return { lsn: row?.lsn ?? '0/0', xid: Number(row?.xid) }
  }
  const before = await mark()
  const cpuBefore = await cluster.cpuTimes()
  const started = performance.now()
  await work()
  const cpuAfter = await cluster.cpuTimes()
  const seconds = (performance.now() - started) / 1000
  const after = await mark()
  const bytes = await db.query<{ n: string }>('SELECT pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn)::text AS n', [
    before.lsn,
    after.lsn,
  ])
  return {
    cpuMs: Object.fromEntries(TIERS.map((t) => [t, (cpuAfter[t] ?? 0) - (cpuBefore[t] ?? 0)])),
    seconds,
    writeTransactions: after.xid - before.xid,
    walBytes: Number(bytes.rows[0]?.n),
    records: inspect ? await walRecords(db, before.lsn, after.lsn) : undefined,
  }
}

/**
 * `count` refreshes at `perS` a second, each on a login taken from `pool` and returned with its
 * successor: at most pool.length in flight. A failed refresh loses its login (its token's state is
 * unknown), so the pool shrinks rather than reusing a spent token. `sentPerS`: the rate the sends
 * kept, below `perS` when the pool held them back.
 */
export async function pacedRefreshes(base: string, pool: Login[], perS: number, count: number) {
  const idle = [...pool]
  const inFlight = new Set<Promise<void>>()
  let ok = 0
  let errors = 0
  let lastSend = 0
  const started = performance.now()
  for (let i = 0; i < count; i++) {
    const wait = started + (i * 1000) / perS - performance.now()
    if (wait > 0) await sleep(wait)
    while (idle.length === 0 && inFlight.size > 0) await Promise.race(inFlight)
    const current = idle.shift()
    if (!current) break
    lastSend = performance.now()
    const p: Promise<void> = refresh(base, current)
      .then(
        (next) => {
          idle.push(next)
          ok++
        },
        () => {
          errors++
        },
      )
      .finally(() => inFlight.delete(p))
    inFlight.add(p)
  }
  await Promise.all(inFlight)
  pool.splice(0, pool.length, ...idle)
  const sendS = (lastSend - started) / 1000
  return { ok, errors, sentPerS: count > 1 && sendS > 0 ? (count - 1) / sendS : perS }
}
type Done = Awaited<ReturnType<typeof pacedRefreshes>>

/** Per-second rates of a window with no load. */
function idleRates(d: Deltas) {
  const perS = (n: number) => n / d.seconds
  return {
    cpuMsPerS: Object.fromEntries(TIERS.map((t) => [t, Math.max(0, perS(d.cpuMs[t] ?? 0))])),
    writeTransactions: perS(d.writeTransactions),
    walBytes: perS(d.walBytes),
    records: d.records && (Object.fromEntries(RECORD_KINDS.map((k) => [k, perS(d.records![k])])) as Records),
  }
}
type Idle = ReturnType<typeof idleRates>

/** A window's Postgres writes per refresh, net of the idle rates. */
function postgresPerRefresh(d: Deltas, idle: Idle, n: number): LifetimePoint['postgresPerRefresh'] {
  const net = (value: number, rate: number) => (value - rate * d.seconds) / n
  const record = (k: (typeof RECORD_KINDS)[number]) =>
    d.records && idle.records ? net(d.records[k], idle.records[k]) : Number.NaN
  return {
    commits: net(d.writeTransactions, idle.writeTransactions),
    tupInserted: record('tupInserted'),
    tupUpdated: record('tupUpdated'),
    tupDeleted: record('tupDeleted'),
    walRecords: record('walRecords'),
    walBytes: net(d.walBytes, idle.walBytes),
  }
}

/** One lifetime's figures: per refresh net of the idle rates, and per 1,000 users at its rate. */
function point(ttlS: number, targetPerS: number, d: Deltas, idle: Idle, done: Done): LifetimePoint {
  const n = Math.max(1, done.ok)
  const cpu = (t: string) => (((d.cpuMs[t] ?? 0) - (idle.cpuMsPerS[t] ?? 0) * d.seconds) * 1000) / n
  const cpuUsPerRefresh = {
    auth: cpu('auth'),
    postgres: cpu('postgres'),
    redis: cpu('redis'),
    nginx: cpu('nginx'),
  }
  const postgres = postgresPerRefresh(d, idle, n)
  const refreshesPerS = 1000 / ttlS
  const serverUs = cpuUsPerRefresh.auth + cpuUsPerRefresh.postgres + cpuUsPerRefresh.redis
  return {
    ttlS,
    targetPerS,
    achievedPerS: done.sentPerS,
    windowS: d.seconds,
    refreshes: done.ok,
    errors: done.errors,
    cpuUsPerRefresh,
    postgresPerRefresh: postgres,
    per1000Users: {
      refreshesPerS,
      cpuMsPerS: (serverUs * refreshesPerS) / 1000,
      walFlushesPerS: postgres.commits * refreshesPerS,
      walBytesPerS: postgres.walBytes * refreshesPerS,
    },
  }
}

/** One refresh's CPU, for the planner: the highest rate's point, where the idle noise weighs least. */
function perRefresh(points: LifetimePoint[]): Pick<TokenLifetimeRun, 'perRefresh'> {
  const p = [...points].sort((a, b) => b.targetPerS - a.targetPerS)[0]
  if (!p || p.refreshes === 0) return {}
  const { auth, postgres, redis } = p.cpuUsPerRefresh
  return { perRefresh: { fromTtlS: p.ttlS, authUs: auth, postgresUs: postgres, redisUs: redis } }
}

/** Logs in `count` users of this run, a few at a time (argon2 per login is the slow part). */
async function loginPool(base: string, run: string, count: number): Promise<Login[]> {
  const pool: Login[] = []
  for (let i = 0; i < count; i += 8) {
    const batch = Array.from({ length: Math.min(8, count - i) }, (_, j) => userEmail(`${run}-ttl`, i + j))
    pool.push(...(await Promise.all(batch.map((email) => login(base, email)))))
  }
  return pool
}

/**
 * The owner's connection to the `postgres` database (the WAL and the snapshot are cluster-wide):
 * pg_walinspect is created there, never in auth's database. `inspect` is false where it cannot be.
 */
async function statsConnection(url: string): Promise<{ db: Db; inspect: boolean }> {
  const maintenance = new URL(url)
  maintenance.pathname = '/postgres'
  const db = createPool({
    connectionString: maintenance.href,
    max: 1,
    connectTimeoutMs: 5000,
    statementTimeoutMs: 10_000,
  })
  const inspect = await db.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect').then(
    () => true,
    () => false,
  )
  return { db, inspect }
}

/** Every lifetime in `opts.ttlsS`, each at its own refresh rate, after an idle window. */
export async function measureTokenLifetime(opts: LifetimeOptions): Promise<TokenLifetimeRun> {
  const { base, cluster, log } = opts
  const { db, inspect } = await statsConnection(cluster.postgres.url)
  try {
    const pool = await loginPool(base, opts.run, opts.logins)
    log(`token lifetime: idle window, ${opts.windowS} s`)
    const idle = idleRates(await around(cluster, db, inspect, () => sleep(opts.windowS * 1000)))
    const points: LifetimePoint[] = []
    for (const ttlS of opts.ttlsS) {
      const perS = opts.activeUsers / ttlS
      const count = Math.max(opts.minRefreshes, Math.round(perS * opts.windowS))
      log(`token lifetime: ttl ${ttlS} s, ${count} refreshes at ${perS.toFixed(2)}/s`)
      let done: Done = { ok: 0, errors: 0, sentPerS: 0 }
      const d = await around(cluster, db, inspect, async () => {
        done = await pacedRefreshes(base, pool, perS, count)
      })
      points.push(point(ttlS, perS, d, idle, done))
    }
    return {
      activeUsers: opts.activeUsers,
      logins: opts.logins,
      requestsPerUserPerS: REQUESTS_PER_USER_PER_S,
      idle: {
        windowS: opts.windowS,
        cpuMsPerS: idle.cpuMsPerS,
        commitsPerS: Math.max(0, idle.writeTransactions),
        walBytesPerS: Math.max(0, idle.walBytes),
      },
      points,
      ...perRefresh(points),
    }
  } finally {
    await db.end()
  }
}
