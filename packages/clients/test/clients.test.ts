import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import { startPostgres, startRedis } from '@authlab/servers'
import {
  asStoreError,
  createPool,
  createRedis,
  duplicateRedis,
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

/** A fresh native Redis and a client of it whose commands time out after 300 ms, with its reconnects counted. */
async function watchedRedis(t: TestContext) {
  const server = await startRedis()
  t.after(() => server.close())
  const redis = createRedis({ url: server.url, commandTimeoutMs: 300 })
  t.after(() => redis.disconnect())
  await redisReady(redis)
  let reconnects = 0
  redis.on('reconnecting', () => reconnects++)
  return { server, redis, reconnects: () => reconnects }
}

test("a Redis that stops answering (SIGSTOP) fails waiting commands as AUTHLAB_STORE_UNAVAILABLE (503) well before ioredis' 2 s graceful close, duplicates included, and the client recovers once it answers", {
  timeout: 30_000,
}, async (t) => {
  const { server, redis } = await watchedRedis(t)
  const writes = duplicateRedis(redis)
  t.after(() => writes.disconnect())
  await redisReady(writes)
  server.freeze()
  const hung = await Promise.all(
    [redis, writes].map(async (client) => {
      const started = performance.now()
      const err = asStoreError(await client.get('k').catch((e: unknown) => e))
      return { err, ms: performance.now() - started }
    }),
  )
  for (const { err, ms } of hung) {
    assert.ok(err instanceof StoreUnavailableError, String(err))
    assert.equal(err.statusCode, 503)
    // A bound, not a timing: the watchdog fails the command within about 1.2 × 300 ms. Ending the
    // socket instead of destroying it would wait for a FIN the frozen server never sends, and
    // ioredis destroys it only after disconnectTimeout (2000 ms).
    assert.ok(ms < 2000, `failed after ${Math.round(ms)} ms`)
    t.diagnostic(`failed after ${Math.round(ms)} ms (timeout 300 ms)`)
  }
  const during = asStoreError(await redis.get('k').catch((e: unknown) => e))
  assert.ok(during instanceof StoreUnavailableError, 'while it stays hung, a new command fails too')
  server.thaw()
  await Promise.all([redisReady(redis, 10_000), redisReady(writes, 10_000)])
  assert.equal(await redis.ping(), 'PONG')
  assert.equal(await writes.ping(), 'PONG')
})

// WAIT 1 <ms> on a server without replicas answers 0 after <ms>, holding the commands behind it on
// that connection: a slow server that keeps answering, without DEBUG (disabled by default).
const slowReply = (redis: ReturnType<typeof createRedis>, ms: number) => redis.call('wait', '1', String(ms))

test('a busy Redis is not a hung one: a queue that is never empty for 1.5 s, each command answered within the timeout, is never failed', async (t) => {
  const { redis, reconnects } = await watchedRedis(t)
  const until = performance.now() + 1500
  while (performance.now() < until) {
    await Promise.all([slowReply(redis, 100), redis.set('k', 'v'), redis.get('k')])
  }
  assert.equal(reconnects(), 0)
  assert.equal(redis.status, 'ready')
})

test('a Redis answering too slowly still fails closed: in a queue of ten 100 ms commands, the first is answered and the last fails as AUTHLAB_STORE_UNAVAILABLE (503), as a per-command timeout of 300 ms would', async (t) => {
  const { redis } = await watchedRedis(t)
  const replies = await Promise.allSettled(Array.from({ length: 10 }, () => slowReply(redis, 100)))
  assert.deepEqual(replies[0], { status: 'fulfilled', value: 0 })
  const last = replies.at(-1)
  assert.ok(last?.status === 'rejected', 'the last command is failed, not answered')
  const err = asStoreError(last.reason)
  assert.ok(err instanceof StoreUnavailableError, String(err))
  await redisReady(redis, 10_000)
  assert.equal(await redis.ping(), 'PONG', 'the client reconnects by itself')
})

test('an event-loop stall longer than the timeout does not drop a connection whose answer arrived during it', async (t) => {
  const { redis, reconnects } = await watchedRedis(t)
  const reply = slowReply(redis, 100)
  // Long enough for the watchdog (every 30 ms) to note the command, short of its answer.
  await new Promise((resolve) => setTimeout(resolve, 60))
  // Block the loop well past the timeout, in the check phase so that the next turn of the loop
  // starts with timers: they see the command due while its answer, sent by Redis meanwhile, is
  // still in the socket, unread.
  await new Promise<void>((resolve) =>
    setImmediate(() => {
      const blockUntil = performance.now() + 700
      while (performance.now() < blockUntil);
      resolve()
    }),
  )
  assert.equal(await reply, 0)
  assert.equal(reconnects(), 0)
  assert.equal(await redis.ping(), 'PONG')
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
