import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startPostgres, startRedis } from '@authlab/servers'
import {
  asStoreError,
  createPool,
  createRedis,
  inTransaction,
  redisReady,
  StoreUnavailableError,
} from '../src/index.ts'

test('a redis command while redis is down fails at once as AUTHLAB_STORE_UNAVAILABLE (503), not a hang', async (t) => {
  const server = await startRedis()
  t.after(() => server.close())
  const redis = createRedis({ url: server.url, commandTimeoutMs: 300 })
  t.after(() => redis.disconnect())
  await redisReady(redis)
  assert.equal(await redis.ping(), 'PONG')
  await server.stop()
  const started = Date.now()
  const err = asStoreError(await redis.get('k').catch((e: unknown) => e))
  assert.ok(err instanceof StoreUnavailableError, String(err))
  assert.equal(err.statusCode, 503)
  assert.ok(Date.now() - started < 2000, 'the failure is prompt')
  await server.start()
  await redisReady(redis)
  assert.equal(await redis.ping(), 'PONG', 'the client reconnects by itself')
})

test('a postgres query while postgres is down fails as AUTHLAB_STORE_UNAVAILABLE (503)', async (t) => {
  const server = await startPostgres()
  t.after(() => server.close())
  const pool = createPool({
    connectionString: server.url,
    max: 2,
    connectTimeoutMs: 500,
    statementTimeoutMs: 1000,
  })
  pool.on('error', () => {})
  t.after(() => pool.end())
  assert.equal((await pool.query('select 1 as one')).rows[0].one, 1)
  await server.stop()
  const err = asStoreError(await pool.query('select 1').catch((e: unknown) => e))
  assert.ok(err instanceof StoreUnavailableError, String(err))
})

test('a bad query is not mistaken for an outage', async (t) => {
  const server = await startPostgres()
  t.after(() => server.close())
  const pool = createPool({
    connectionString: server.url,
    max: 1,
    connectTimeoutMs: 500,
    statementTimeoutMs: 1000,
  })
  pool.on('error', () => {})
  t.after(() => pool.end())
  const err = asStoreError(await pool.query('select * from no_such_table').catch((e: unknown) => e))
  assert.ok(!(err instanceof StoreUnavailableError))
})

test('invalid client options are rejected before anything connects', () => {
  assert.throws(() => createRedis({ url: 'http://x', commandTimeoutMs: 100 }), /REDIS_URL/)
  assert.throws(
    () => createPool({ connectionString: 'mysql://x', max: 1, connectTimeoutMs: 1, statementTimeoutMs: 1 }),
    /DATABASE_URL/,
  )
})

test('a deadlock (40P01) is retried by inTransaction: both transactions commit, neither fails', async (t) => {
  const server = await startPostgres()
  const pool = createPool({
    connectionString: server.url,
    max: 4,
    connectTimeoutMs: 2000,
    statementTimeoutMs: 10_000,
  })
  pool.on('error', () => {})
  t.after(async () => {
    await pool.end()
    await server.close()
  })
  await pool.query('CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL)')
  await pool.query('INSERT INTO counters VALUES (1, 0), (2, 0)')
  let attempts = 0
  // Opposite lock order plus a barrier after the first lock: Postgres must abort one of them.
  let arrived = 0
  const barrier = async () => {
    arrived++
    while (arrived < 2) await new Promise((r) => setTimeout(r, 5))
  }
  const bump = (first: number, second: number) =>
    inTransaction(pool, async (db) => {
      attempts++
      await db.query('UPDATE counters SET n = n + 1 WHERE id = $1', [first])
      if (attempts <= 2) await barrier()
      await db.query('UPDATE counters SET n = n + 1 WHERE id = $1', [second])
    })
  await Promise.all([bump(1, 2), bump(2, 1)])
  assert.ok(attempts >= 3, `one transaction was run again (${attempts} attempts)`)
  const { rows } = await pool.query('SELECT n FROM counters ORDER BY id')
  assert.deepEqual(
    rows.map((r) => r.n),
    [2, 2],
    'each transaction applied exactly once',
  )
})
