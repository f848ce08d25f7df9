import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createRedis, type RedisClient } from '@authlab/clients'
import { type RedisServer, startRedis } from '@authlab/servers'
import { Redis } from 'ioredis'
import {
  type FeedObserver,
  RevocationFeed,
  RevocationReader,
  RevocationWriter,
  redisRunId,
  type TokenFacts,
} from '../src/index.ts'
import { keys, REVOCATION_CHANNEL } from '../src/keys.ts'

// One real redis-server (AOF on) for the file; each test uses fresh ids, so they do not interfere.
let server: RedisServer
before(async () => {
  server = await startRedis()
})
after(() => server?.close())

/** A client as the services configure theirs: no offline queue, reconnecting forever. */
function client(): Redis {
  const redis = new Redis(server.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 50,
  })
  redis.on('error', () => {})
  return redis
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

/** A connected writer and reader on their own clients, marked ready like auth does. */
async function store(t: { after(fn: () => unknown): void }) {
  const [wc, rc] = [client(), client()]
  t.after(() => {
    wc.disconnect()
    rc.disconnect()
  })
  await until('connected', () => wc.status === 'ready' && rc.status === 'ready')
  const writer = new RevocationWriter(wc)
  const reader = new RevocationReader(rc, { readyPollMs: 50 })
  reader.start()
  t.after(() => reader.close())
  await writer.markReady(await redisRunId(wc))
  await until('reader ready', () => reader.check())
  return { writer, reader, wc, rc }
}

/** A feed on its own connection, synced, closed when the test ends. */
async function syncedFeed(
  t: { after(fn: () => unknown): void },
  reader: RevocationReader,
  observer?: FeedObserver,
) {
  const feedClient = client()
  t.after(() => feedClient.disconnect())
  const feed = new RevocationFeed(feedClient, reader, { heartbeatMs: 50, ...(observer ? { observer } : {}) })
  feed.start()
  t.after(() => feed.close())
  await until('feed synced', () => feed.synced)
  return feed
}

const token = (over: Partial<TokenFacts> = {}): TokenFacts => ({
  jti: randomUUID(),
  loginId: randomUUID(),
  userId: randomUUID(),
  issuedAt: Math.floor(Date.now() / 1000),
  ...over,
})
const soon = () => Date.now() + 60_000

test('a written session reads back with its login; an unknown or revoked session reads as undefined', async (t) => {
  const { writer, reader } = await store(t)
  const sessionId = randomBytes(32).toString('base64url')
  const record = { userId: randomUUID(), loginId: randomUUID(), expiresAt: soon(), roles: ['user'] }
  await writer.writeSession(sessionId, record, 60_000)
  assert.deepEqual(await reader.readSession(sessionId, 60_000), record)
  assert.equal(await reader.readSession(randomBytes(32).toString('base64url')), undefined)
  await writer.revoke({
    entries: [{ kind: 'login', value: record.loginId, expiresAt: soon() }],
    sessionHashes: [(await import('../src/keys.ts')).hashSessionId(sessionId)],
    watermark: 0,
  })
  assert.equal(await reader.readSession(sessionId), undefined)
})

test('a rewrite changes a live session in place, keeps its idle TTL, and never brings back a deleted one', async (t) => {
  const { writer, reader } = await store(t)
  const { hashSessionId } = await import('../src/keys.ts')
  const [live, gone] = [randomBytes(32).toString('base64url'), randomBytes(32).toString('base64url')]
  const record = (roles: string[]) => ({
    userId: randomUUID(),
    loginId: randomUUID(),
    expiresAt: soon(),
    roles,
  })
  const before = record(['user'])
  await writer.writeSession(live, before, 60_000)
  const after = { ...before, roles: ['admin', 'user'] }
  await writer.revoke({
    entries: [],
    sessionHashes: [],
    watermark: 0,
    rewrites: [
      { sessionHash: hashSessionId(live), record: after },
      { sessionHash: hashSessionId(gone), record: record(['admin']) },
    ],
  })
  assert.deepEqual(await reader.readSession(live), after)
  assert.equal(await reader.readSession(gone), undefined)
  const probe = client()
  t.after(() => probe.disconnect())
  await until('connected', () => probe.status === 'ready')
  const left = await probe.pttl((await import('../src/keys.ts')).keys.session(hashSessionId(live)))
  assert.ok(left > 0 && left <= 60_000, `idle TTL kept: ${left} ms`)
})

test("a rewrite never replaces a record with an older role change's roles (a late write, a rebuild)", async (t) => {
  const { writer, reader } = await store(t)
  const { hashSessionId } = await import('../src/keys.ts')
  const id = randomBytes(32).toString('base64url')
  const base = { userId: randomUUID(), loginId: randomUUID(), expiresAt: soon() }
  await writer.writeSession(id, { ...base, roles: [], rolesVersion: 1 }, 60_000)
  const rewrite = (roles: string[], rolesVersion: number) =>
    writer.rewriteSessions([{ sessionHash: hashSessionId(id), record: { ...base, roles, rolesVersion } }])
  assert.equal(await rewrite(['admin'], 3), 1, 'a newer version is written')
  assert.equal(await rewrite(['ops'], 2), 0, 'an older one is not')
  assert.deepEqual((await reader.readSession(id))?.roles, ['admin'])
  assert.equal(
    await rewrite(['admin', 'ops'], 3),
    1,
    'the same version may be written again (before and after COMMIT)',
  )
  assert.deepEqual((await reader.readSession(id))?.roles, ['admin', 'ops'])
})

test('isRevoked sees the jti, the login and the user cut-off (whole seconds before it), nothing else', async (t) => {
  const { writer, reader } = await store(t)
  const [byJti, byLogin, byCutoff] = [
    token(),
    token(),
    token({ issuedAt: Math.floor(Date.now() / 1000) - 2 }),
  ]
  const sameSecond = token({ userId: byCutoff.userId, issuedAt: Math.floor(Date.now() / 1000) })
  await writer.revoke({
    entries: [
      { kind: 'jti', value: byJti.jti, expiresAt: soon() },
      { kind: 'login', value: byLogin.loginId, expiresAt: soon() },
      { kind: 'user', value: byCutoff.userId, cutoff: sameSecond.issuedAt * 1000 + 500, expiresAt: soon() },
    ],
    sessionHashes: [],
    watermark: 0,
  })
  assert.equal(await reader.isRevoked(byJti), true)
  assert.equal(await reader.isRevoked(byLogin), true)
  assert.equal(await reader.isRevoked(byCutoff), true)
  assert.equal(
    await reader.isRevoked(sameSecond),
    false,
    'the cut-off second itself is the login entries’ job',
  )
  assert.equal(await reader.isRevoked(token()), false)
})

test('a user cut-off and the watermark only move forward: an older write arriving later changes neither', async (t) => {
  const { writer, reader } = await store(t)
  const userId = randomUUID()
  const now = Date.now()
  const before = await writer.state()
  await writer.revoke({
    entries: [{ kind: 'user', value: userId, cutoff: now, expiresAt: soon() }],
    sessionHashes: [],
    watermark: before.watermark + 10,
  })
  await writer.revoke({
    entries: [{ kind: 'user', value: userId, cutoff: now - 5000, expiresAt: soon() }],
    sessionHashes: [],
    watermark: before.watermark + 5,
  })
  assert.equal((await writer.state()).watermark, before.watermark + 10)
  const issuedAt = Math.floor(now / 1000) - 2
  assert.equal(await reader.isRevoked(token({ userId, issuedAt })), true, 'the later cut-off still holds')
})

test('until the ready marker names this Redis process, reads fail closed (AUTHLAB_REVOCATIONS_NOT_READY)', async (t) => {
  const { writer, reader, rc } = await store(t)
  await rc.del(keys.ready)
  await until('not ready', async () => !(await reader.check()))
  await assert.rejects(reader.isRevoked(token()), { code: 'AUTHLAB_REVOCATIONS_NOT_READY', statusCode: 503 })
  await assert.rejects(reader.readSession(randomBytes(32).toString('base64url')), {
    code: 'AUTHLAB_REVOCATIONS_NOT_READY',
  })
  await writer.markReady('some-other-redis-process')
  assert.equal(await reader.check(), false, 'a marker for another process does not count')
  await writer.markReady(await redisRunId(rc))
  assert.equal(await reader.check(), true)
})

test('a session read issued while the connection comes back is not answered from it before the marker is checked on it (auto-pipelining flushes it once connected)', async (t) => {
  const { writer } = await store(t)
  // As the services configure theirs: auto-pipelining, no offline queue.
  const redis = createRedis({ url: server.url, commandTimeoutMs: 1000 })
  redis.on('error', () => {})
  t.after(() => redis.disconnect())
  const reader = new RevocationReader(redis, { readyPollMs: 60_000 })
  reader.start()
  t.after(() => reader.close())
  await until('reader ready', () => reader.check())
  const sessionId = randomBytes(32).toString('base64url')
  await writer.writeSession(
    sessionId,
    { userId: randomUUID(), loginId: randomUUID(), expiresAt: soon(), roles: [] },
    60_000,
  )
  // What a Redis restarted from an older AOF holds: a session its logout deleted, another
  // process's marker.
  await writer.markReady('a-redis-process-that-is-gone')
  const outcomes: string[] = []
  for (let attempt = 0; attempt < 20 && !outcomes.includes('refused'); attempt++) {
    outcomes.push(...(await readWhileConnecting(redis, reader, sessionId)))
  }
  assert.ok(!outcomes.includes('answered'), `a read flushed on the new connection was answered: ${outcomes}`)
  // Not vacuous: the read did reach the new connection (otherwise it fails as not connected).
  assert.ok(outcomes.includes('refused'), `the read never reached the new connection: ${outcomes}`)
})

/**
 * Reconnects `redis` and, at every check phase while the connection is up but not yet ready (its
 * handshake and ready check in flight), reads the session. Auto-pipelining writes each read at the
 * next check phase: the read issued just before the ready check's answer is processed is written
 * on the connection once it is ready, before the reader has checked the marker on it.
 */
async function readWhileConnecting(redis: RedisClient, reader: RevocationReader, sessionId: string) {
  const reads: Promise<string>[] = []
  await new Promise<void>((resolve) => {
    const readEachCheckPhase = () => {
      if (redis.status !== 'connect') return resolve()
      reads.push(
        reader.readSession(sessionId).then(
          (record) => (record ? 'answered' : 'empty'),
          (err: Error & { code?: string }) =>
            err.code === 'AUTHLAB_REVOCATIONS_NOT_READY' ? 'refused' : 'not sent',
        ),
      )
      const until = performance.now() + 1
      while (performance.now() < until); // let answers arrive, so a poll phase finds them at once
      setImmediate(readEachCheckPhase)
    }
    redis.once('connect', () => setImmediate(readEachCheckPhase))
    redis.disconnect(true)
  })
  return Promise.all(reads)
}

test('after a restart the marker restored from the AOF no longer counts, and a revocation lost with the last second is visible as such', async (t) => {
  const { writer, reader, rc } = await store(t)
  const kept = token()
  const lost = token()
  await writer.revoke({
    entries: [{ kind: 'jti', value: kept.jti, expiresAt: soon() }],
    sessionHashes: [],
    watermark: 0,
  })
  await sleep(1100) // everysec: what was written a second ago is on disk
  const copy = await server.copyData()
  t.after(() => copy.discard())
  await writer.revoke({
    entries: [{ kind: 'jti', value: lost.jti, expiresAt: soon() }],
    sessionHashes: [],
    watermark: 0,
  })
  await server.restart({ restoreFrom: copy })
  await until('reader reconnected', () => rc.status === 'ready')
  assert.equal(await reader.check(), false, 'not ready although the old marker came back from disk')
  assert.ok(await rc.get(keys.ready), 'the old marker is there')
  assert.equal(await rc.exists(keys.deniedJti(lost.jti)), 0, 'the last revocation was lost')
  assert.equal(await rc.exists(keys.deniedJti(kept.jti)), 1, 'the earlier one survived')
  await assert.rejects(reader.isRevoked(lost), { code: 'AUTHLAB_REVOCATIONS_NOT_READY' })
})

test('the feed loses no revocation while its pub/sub connection is killed again and again (CLIENT KILL TYPE pubsub)', async (t) => {
  const { writer, reader, wc } = await store(t)
  const feed = await syncedFeed(t, reader)
  const resyncsBefore = feed.resyncs
  const tokens = Array.from({ length: 300 }, () => token())
  let kills = 0
  const killer = (async () => {
    for (let i = 0; i < 15; i++) {
      await sleep(15)
      await wc.client('KILL', 'TYPE', 'pubsub').then(
        () => kills++,
        () => {},
      )
    }
  })()
  for (const tk of tokens) {
    await writer.revoke({
      entries: [{ kind: 'jti', value: tk.jti, expiresAt: soon() }],
      sessionHashes: [],
      watermark: 0,
    })
  }
  await killer
  // The feed's promise: once it is fresh as of a moment, it holds everything published before it.
  const doneAt = Date.now()
  await until(
    'feed fresh after the last write',
    () => feed.synced && Date.now() - feed.staleness() > doneAt,
    10_000,
  )
  const missing = tokens.filter((tk) => !feed.isRevoked(tk))
  assert.ok(kills > 0)
  assert.ok(feed.resyncs > resyncsBefore, 'the kills caused resyncs')
  assert.deepEqual(missing, [], 'every revocation is in the local set')
})

test('a gap in the revision sequence is detected and repaired by a resync', async (t) => {
  const { writer, reader, wc } = await store(t)
  const feed = await syncedFeed(t, reader)
  const missed = token()
  // A revocation applied in Redis whose message never reached the feed: written without
  // publishing, then the next message arrives with a revision one too far.
  const [gen, rev] = await wc.hmget(keys.revision, 'gen', 'rev')
  await wc.multi().zadd(keys.liveSet, soon(), `jti:${missed.jti}`).hincrby(keys.revision, 'rev', 1).exec()
  const resyncs = feed.resyncs
  await wc.spublish(REVOCATION_CHANNEL, JSON.stringify({ gen, rev: Number(rev) + 2, entries: [] }))
  await until('resynced', () => feed.resyncs > resyncs && feed.synced)
  assert.equal(feed.isRevoked(missed), true)
  await writer.revoke({ entries: [], sessionHashes: [], watermark: 0 })
})

test("the feed's observer hears each applied revocation with its lag behind the writer, and each resync", async (t) => {
  const { writer, reader } = await store(t)
  const lags: number[] = []
  let resyncs = 0
  const feed = await syncedFeed(t, reader, { applied: (ms) => lags.push(ms), resynced: () => resyncs++ })
  assert.equal(resyncs, feed.resyncs, 'the first sync is a resync')
  assert.ok(resyncs >= 1)
  const revoked = token()
  await writer.revoke({
    entries: [{ kind: 'jti', value: revoked.jti, expiresAt: soon() }],
    sessionHashes: [],
    watermark: 0,
  })
  await until('applied', () => feed.isRevoked(revoked))
  assert.equal(lags.length, 1)
  // Writer and feed share this process's clock: the lag is a real, non-negative duration.
  assert.ok(Number.isFinite(lags[0]) && (lags[0] as number) >= 0, String(lags[0]))
})
