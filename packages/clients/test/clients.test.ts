import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startPostgres, startRedis } from '@authlab/servers'
import { asStoreError, createPool, createRedis, redisReady, StoreUnavailableError } from '../src/index.ts'

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
