// Every outage shape the fault tests produce (packages/cluster, packages/revocation, packages/verify,
// services/auth), classified by origin: real errors from real servers where that is cheap, a row
// table for the rest. Also the gate for upgrading ioredis (src/redis-origin.ts reads its internals).
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { after, before, describe, type TestContext, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, type PostgresServer, type RedisServer, startPostgres, startRedis } from '@authlab/servers'
import { Redis, ReplyError } from 'ioredis'
import pg from 'pg'
import {
  asStoreError,
  createPool,
  createRedis,
  type PostgresClientOptions,
  type RedisClient,
  type RedisClientOptions,
  RedisNotReplicatedError,
  redisReady,
  type Store,
  StoreUnavailableError,
  storeUnavailableReason,
} from '../src/index.ts'

/** [shape, error, the store it shows unavailable or undefined for "not an outage: 500"] */
type Row = [shape: string, err: unknown, store: Store | undefined]

/** Compares whole tables, so a failure lists every shape classified wrongly, by name. */
function assertRows(rows: Row[], t?: TestContext): void {
  for (const [shape, err] of rows) t?.diagnostic(`${shape}: ${summary(err)}`)
  const got = Object.fromEntries(rows.map(([shape, err]) => [shape, storeUnavailableReason(err) ?? 'none']))
  const want = Object.fromEntries(rows.map(([shape, , store]) => [shape, store ?? 'none']))
  assert.deepEqual(got, want)
  for (const [, err, store] of rows) assert.equal(asStoreError(err) instanceof StoreUnavailableError, !!store)
}

/** What a real error was, to check that a row's shape names it (its class, code and message). */
function summary(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const { code } = err as { code?: unknown }
  return `${err.name}${code ? ` ${code}` : ''}: ${err.message.slice(0, 90)}`
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => assert.fail('expected a failure'),
    (err: unknown) => err,
  )

function sqlstate(code: string, message: string): pg.DatabaseError {
  const err = new pg.DatabaseError(message, 0, 'error')
  err.code = code
  return err
}

function systemError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, errno: -1, syscall: 'connect' })
}

test('row table: the shapes not cheap to produce for real, and errors that only look like outages', () => {
  assertRows([
    [
      'redis LOADING after a restart from its AOF',
      new ReplyError('LOADING Redis is loading the dataset in memory'),
      'Redis',
    ],
    [
      'redis cluster TRYAGAIN during a failover',
      new ReplyError('TRYAGAIN Multiple keys request during rehashing of slot'),
      'Redis',
    ],
    [
      'redis cluster CLUSTERDOWN, the cluster is down',
      new ReplyError('CLUSTERDOWN The cluster is down'),
      'Redis',
    ],
    [
      'postgres crash shutdown 57P02',
      sqlstate('57P02', 'terminating connection because of crash of another server process'),
      'Postgres',
    ],
    ['postgres starting up 57P03', sqlstate('57P03', 'the database system is starting up'), 'Postgres'],
    [
      'postgres idle-session timeout 57P05',
      sqlstate('57P05', 'terminating connection due to idle-session timeout'),
      'Postgres',
    ],
    ['postgres connection failure 08006', sqlstate('08006', 'connection failure'), 'Postgres'],
    ['postgres out of memory 53200', sqlstate('53200', 'out of memory'), 'Postgres'],
    ['postgres disk full 53100', sqlstate('53100', 'could not extend file'), 'Postgres'],
    // Not outages: a retry cannot fix them, or inTransaction already retried them.
    [
      'postgres database dropped 57P04',
      sqlstate('57P04', 'terminating connection due to database drop'),
      undefined,
    ],
    ['postgres configuration limit 53400', sqlstate('53400', 'out of shared memory'), undefined],
    ['postgres serialization failure 40001', sqlstate('40001', 'could not serialize access'), undefined],
    ['postgres deadlock 40P01', sqlstate('40P01', 'deadlock detected'), undefined],
    // Its own 503 with its own code: the write reached Redis, a replica did not.
    ['redis WAIT short of replicas', new RedisNotReplicatedError(1, 100), undefined],
    // What the old classification matched on text: from no store client, they are not outages.
    [
      'a TypeError naming a reply code',
      new TypeError("Cannot read properties of undefined (reading 'READONLY')"),
      undefined,
    ],
    ["a TypeError in a store client's callback", new TypeError('Connection is closed'), undefined],
    [
      'a plain Error with an ioredis message, raised elsewhere',
      new Error('Connection is closed.'),
      undefined,
    ],
    [
      'a plain Error with a pg message, raised elsewhere',
      new Error('Connection terminated unexpectedly'),
      undefined,
    ],
    [
      'ECONNREFUSED from no store client',
      systemError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.9:8080'),
      undefined,
    ],
    ['a reply whose text names a code later on', new ReplyError('ERR unknown command READONLY'), undefined],
    [
      'a SQL error whose text names postgres',
      sqlstate('42P01', 'relation "postgres" does not exist'),
      undefined,
    ],
    ['not an Error at all', 'Connection is closed', undefined],
  ])
})

/** One of the project's clients; its connection errors are expected (a fault is injected under it). */
function quietClient(opts: RedisClientOptions): RedisClient {
  const redis = createRedis(opts)
  redis.on('error', () => {})
  redis.on('node error', () => {})
  return redis
}

function client(t: TestContext, opts: RedisClientOptions): RedisClient {
  const redis = quietClient(opts)
  t.after(() => redis.disconnect())
  return redis
}

// WAIT on a server without replicas holds its connection for <ms>: a command still in flight.
const inFlight = (redis: RedisClient, ms = 5000) => redis.call('wait', '1', String(ms))

describe('real Redis', () => {
  let server: RedisServer
  // A timeout longer than any fault below takes to show, so that the fault fails the command and
  // not the hang watchdog; `watched` has a short one, for the hangs.
  let redis: RedisClient
  let watched: RedisClient
  before(async () => {
    server = await startRedis()
    redis = quietClient({ url: server.url, commandTimeoutMs: 3000 })
    watched = quietClient({ url: server.url, commandTimeoutMs: 300 })
    await Promise.all([redisReady(redis), redisReady(watched)])
  })
  after(async () => {
    redis.disconnect()
    watched.disconnect()
    await server.close()
  })

  test('bad commands are not outages', async (t) => {
    await redis.set('string', 'v')
    assertRows(
      [
        ['redis WRONGTYPE (a bug)', await failure(redis.lpush('string', 'x')), undefined],
        ['redis unknown command (a bug)', await failure(redis.call('no-such-command')), undefined],
        ['redis NOSCRIPT (a bug)', await failure(redis.evalsha('0'.repeat(40), 0)), undefined],
      ],
      t,
    )
  })

  test('a primary demoted under its clients (a Sentinel failover): READONLY, and MASTERDOWN once cut off', async (t) => {
    const admin = new Redis(server.url)
    t.after(() => admin.disconnect())
    await admin.replicaof('127.0.0.1', await freePort())
    // Stale reads refused: a replica without its primary answers MASTERDOWN.
    await admin.config('SET', 'replica-serve-stale-data', 'no')
    // READONLY makes the client reconnect, to find the new primary.
    const reconnected = once(redis, 'ready')
    const rows: Row[] = [['redis READONLY after demotion', await failure(redis.set('k', 'v')), 'Redis']]
    await reconnected
    rows.push([
      'redis MASTERDOWN, a replica cut off from its primary',
      await failure(redis.get('k')),
      'Redis',
    ])
    await admin.replicaof('NO', 'ONE')
    assertRows(rows, t)
  })

  test('killed (SIGKILL) and stopped (SIGTERM): commands in flight, in a half-answered pipeline, and sent meanwhile', async (t) => {
    const pipeline = redis.pipeline().set('a', '1').wait(1, 5000).get('a').exec()
    const killed = failure(inFlight(redis))
    await sleep(200)
    await server.kill()
    const [, [aborted] = []] = (await pipeline) ?? []
    const rows: Row[] = [
      ['redis killed (SIGKILL), a command in flight', await killed, 'Redis'],
      ['redis killed, the rest of a half-answered pipeline', aborted, 'Redis'],
      ['redis down, a command sent meanwhile', await failure(redis.get('k')), 'Redis'],
    ]
    await server.start()
    await redisReady(redis, 10_000)
    const stopped = failure(inFlight(redis))
    await sleep(200)
    await server.stop()
    rows.push(['redis stopped (SIGTERM), a command in flight', await stopped, 'Redis'])
    rows.push(['redis stopped, a command sent meanwhile', await failure(redis.get('k')), 'Redis'])
    await server.start()
    assertRows(rows, t)
  })

  test('frozen (SIGSTOP) and slow: the hang watchdog drops the connection', async (t) => {
    await redisReady(watched, 10_000)
    server.freeze()
    const rows: Row[] = [
      [
        'redis frozen (SIGSTOP): the hang watchdog drops the connection',
        await failure(watched.get('k')),
        'Redis',
      ],
      ['redis frozen, a command sent meanwhile', await failure(watched.get('k')), 'Redis'],
    ]
    server.thaw()
    await redisReady(watched, 10_000)
    const slow = await Promise.allSettled(Array.from({ length: 10 }, () => inFlight(watched, 100)))
    const last = slow.at(-1)
    rows.push([
      'redis slow: the tenth of ten 100 ms commands, 300 ms timeout',
      last?.status === 'rejected' && last.reason,
      'Redis',
    ])
    assertRows(rows, t)
  })
})

test('real Redis Cluster and Sentinel clients: an unserved slot, a frozen node, no node or sentinel reachable', {
  timeout: 60_000,
}, async (t) => {
  // A one-node cluster; alone, a node does not learn its own address for CLUSTER SLOTS.
  const server = await startRedis({
    args: ['--cluster-enabled', 'yes', '--cluster-announce-ip', '127.0.0.1'],
  })
  t.after(() => server.close())
  const admin = client(t, { url: server.url, commandTimeoutMs: 3000 })
  await redisReady(admin)
  const rows: Row[] = [
    ['redis CLUSTERDOWN, a slot without a primary', await failure(admin.get('k')), 'Redis'],
  ]
  await admin.call('cluster', 'addslotsrange', '0', '16383')
  // A node takes up to 2 s after its start before it calls its cluster state ok.
  while (!String(await admin.call('cluster', 'info')).includes('cluster_state:ok')) await sleep(100)
  const cluster = client(t, { url: server.url, mode: 'cluster', commandTimeoutMs: 300 })
  await redisReady(cluster, 10_000)
  await cluster.set('k', 'v')
  server.freeze()
  rows.push(['redis cluster node frozen: command timeout', await failure(cluster.get('k')), 'Redis'])
  server.thaw()
  const nowhere = `redis://127.0.0.1:${await freePort()}`
  const orphan = client(t, { url: nowhere, mode: 'cluster', commandTimeoutMs: 300 })
  const allFailed = once(orphan, 'error').then(([err]) => err)
  rows.push(['redis cluster, no node reachable: a command', await failure(orphan.get('k')), 'Redis'])
  rows.push(['redis cluster, no node reachable: the slots refresh', await allFailed, 'Redis'])
  const sentinels = [{ host: '127.0.0.1', port: await freePort() }]
  const sentinel = client(t, {
    url: nowhere,
    mode: 'sentinel',
    sentinels,
    sentinelName: 'authlab',
    commandTimeoutMs: 300,
  })
  rows.push(['redis sentinel, no sentinel reachable', await failure(sentinel.get('k')), 'Redis'])
  assertRows(rows, t)
})

/** A connection of its own, with no statement timeout: the fault, not the timeout, must end its query. */
async function untimed(pool: pg.Pool) {
  const db = await pool.connect()
  db.on('error', () => {})
  await db.query('SET statement_timeout = 0')
  const { rows } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
  return { db, pid: rows[0]?.pid ?? -1 }
}

/** Resolves once `pool` gets an answer again (after a crash restart). */
async function answering(pool: pg.Pool): Promise<void> {
  while (
    !(await pool.query('SELECT 1').then(
      () => true,
      () => false,
    ))
  )
    await sleep(100)
}

describe('real Postgres', () => {
  let server: PostgresServer
  let options: PostgresClientOptions
  let pool: pg.Pool
  const pools: pg.Pool[] = []
  /** A pool of the server, ended after the tests; its idle clients' errors are expected. */
  const newPool = (opts: Partial<PostgresClientOptions> = {}) => {
    const created = createPool({ ...options, ...opts })
    created.on('error', () => {})
    pools.push(created)
    return created
  }
  before(async () => {
    server = await startPostgres()
    options = { connectionString: server.url, max: 3, connectTimeoutMs: 500, statementTimeoutMs: 300 }
    pool = newPool()
    await pool.query('CREATE TABLE t (id int PRIMARY KEY)')
    await pool.query('INSERT INTO t VALUES (1)')
  })
  after(async () => {
    await Promise.all(pools.map((p) => p.end()))
    await server.close()
  })

  test('bad queries are not outages; the statement timeout is', async (t) => {
    assertRows(
      [
        ['postgres syntax error 42601 (a bug)', await failure(pool.query('SELEC 1')), undefined],
        [
          'postgres undefined table 42P01 (a bug)',
          await failure(pool.query('SELECT * FROM missing')),
          undefined,
        ],
        ['postgres unique violation 23505', await failure(pool.query('INSERT INTO t VALUES (1)')), undefined],
        [
          'pg refusing values that are not an array (a bug)',
          await failure(pool.query('SELECT $1', 'x' as never)),
          undefined,
        ],
        ['pg refusing a null query (a TypeError)', await failure(pool.query(null as never)), undefined],
        ['postgres statement timeout 57014', await failure(pool.query('SELECT pg_sleep(5)')), 'Postgres'],
      ],
      t,
    )
  })

  test('a hung backend (SIGSTOP) times out on the read timeout, while the full pool times out a checkout', async (t) => {
    const hung = await untimed(pool)
    process.kill(hung.pid, 'SIGSTOP')
    const readTimeout = failure(hung.db.query('SELECT 1'))
    const held = [await pool.connect(), await pool.connect()]
    const rows: Row[] = [
      [
        'pg pool exhausted: no connection within the timeout',
        await failure(pool.query('SELECT 1')),
        'Postgres',
      ],
      ['postgres backend hung: query read timeout', await readTimeout, 'Postgres'],
    ]
    process.kill(hung.pid, 'SIGCONT')
    hung.db.release(true)
    for (const db of held) db.release()
    assertRows(rows, t)
  })

  test('a connection ended by an administrator (pg_terminate_backend, 57P01) and the next query on it', async (t) => {
    const victim = await untimed(pool)
    const terminated = failure(victim.db.query('SELECT pg_sleep(5)'))
    await sleep(100)
    await pool.query('SELECT pg_terminate_backend($1)', [victim.pid])
    const rows: Row[] = [
      ['postgres admin shutdown 57P01, a query in flight', await terminated, 'Postgres'],
      [
        'postgres terminated, the next query on that connection',
        await failure(victim.db.query('SELECT 1')),
        'Postgres',
      ],
    ]
    victim.db.release(true)
    assertRows(rows, t)
  })

  test('a backend killed (SIGKILL): its pool.query and the other connections, ended by the crash restart, lose theirs', async (t) => {
    const bystander = await untimed(pool)
    const crashed = failure(bystander.db.query('SELECT pg_sleep(5)'))
    const query = 'SELECT pg_sleep(5) AS killed'
    const killed = failure(newPool({ statementTimeoutMs: 10_000 }).query(query))
    await sleep(100)
    const { rows: found } = await pool.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE query = $1',
      [query],
    )
    process.kill(found[0]?.pid ?? -1, 'SIGKILL')
    const rows: Row[] = [
      ['postgres backend killed, its query in flight (pool.query)', await killed, 'Postgres'],
      ['postgres crash restart, a query in flight on another connection', await crashed, 'Postgres'],
    ]
    bystander.db.release(true)
    await answering(pool)
    assertRows(rows, t)
  })

  test('a role over its connection limit: "too many connections" (53300)', async (t) => {
    await pool.query(`CREATE ROLE limited LOGIN PASSWORD 'limited' CONNECTION LIMIT 0`)
    const url = Object.assign(new URL(server.url), { username: 'limited', password: 'limited' })
    const limited = newPool({ connectionString: url.href })
    assertRows(
      [['postgres too many connections 53300', await failure(limited.query('SELECT 1')), 'Postgres']],
      t,
    )
  })

  test('the server frozen (SIGSTOP): a new connection gets no answer within the connect timeout', async (t) => {
    const fresh = newPool()
    process.kill(server.pid(), 'SIGSTOP')
    const err = await failure(fresh.query('SELECT 1'))
    process.kill(server.pid(), 'SIGCONT')
    assertRows([['postgres frozen: connection timeout', err, 'Postgres']], t)
  })

  // Last: the server stays down.
  test("stopped (the fault tests' fast shutdown): a query in flight, then nothing listening", async (t) => {
    const running = await untimed(pool)
    const shutdown = failure(running.db.query('SELECT pg_sleep(5)'))
    await sleep(100)
    await server.stop()
    const rows: Row[] = [
      ['postgres stopped (fast shutdown), a query in flight', await shutdown, 'Postgres'],
      [
        'postgres stopped: connection refused (not port 5432)',
        await failure(pool.query('SELECT 1')),
        'Postgres',
      ],
    ]
    running.db.release(true)
    assertRows(rows, t)
  })
})
