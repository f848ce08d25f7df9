// The gate for upgrading ioredis: the watchdog (src/hang-watchdog.ts) reads ioredis internals
// (commandQueue, stream), so pnpm-workspace.yaml pins ioredis to the version these tests passed on.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { startRedis } from '@authlab/servers'
import {
  asStoreError,
  createRedis,
  duplicateRedis,
  RedisUnansweredError,
  redisReady,
  StoreUnavailableError,
} from '../src/index.ts'

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

test("a Redis that stops answering (SIGSTOP) fails waiting commands with AUTHLAB_REDIS_UNANSWERED, a store outage (503), well before ioredis' 2 s graceful close, duplicates included, and the client recovers once it answers", {
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
      const raw = await client.get('k').catch((e: unknown) => e)
      return { raw, err: asStoreError(raw), ms: performance.now() - started }
    }),
  )
  for (const { raw, err, ms } of hung) {
    assert.ok(raw instanceof RedisUnansweredError, `the watchdog's own error, not ${raw}`)
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

test('a Redis answering too slowly still fails closed: in a queue of ten 100 ms commands, the first is answered and the last fails as a store outage (503), as a per-command timeout of 300 ms would', async (t) => {
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

test('a transaction waiting on a frozen Redis fails as a whole with AUTHLAB_REDIS_UNANSWERED, a store outage (503)', {
  timeout: 30_000,
}, async (t) => {
  const { server, redis } = await watchedRedis(t)
  server.freeze()
  const raw = await redis
    .multi()
    .set('k', 'v')
    .get('k')
    .exec()
    .catch((e: unknown) => e)
  assert.ok(raw instanceof RedisUnansweredError, String(raw))
  assert.ok(asStoreError(raw) instanceof StoreUnavailableError)
})

test('ioredis is pinned to one exact version in the catalog, and that version is the one installed', () => {
  const catalog = readFileSync(join(import.meta.dirname, '../../../pnpm-workspace.yaml'), 'utf8')
  const pinned = /^ {2}ioredis: (\S+)$/m.exec(catalog)?.[1]
  assert.match(pinned ?? '', /^\d+\.\d+\.\d+$/, 'an exact version: no range lets an untested release in')
  const installed = createRequire(import.meta.url)('ioredis/package.json') as { version: string }
  assert.equal(installed.version, pinned)
})
