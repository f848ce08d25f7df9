// What the shared state costs, measured on a real Redis: bytes per live session and per revocation
// entry (INFO memory deltas, and MEMORY USAGE of one key), the `jwt-pushed` replica's heap per live
// revocation, its resync time and snapshot size at reconnect, and how each mode's revocation check
// changes as the live revocation set grows. The articles' "a lookup on every request is heavy" and
// "the server stores nothing" as numbers.
//   node loadtest/src/storage.ts [--sizes 1000,10000,100000]
import { randomBytes, randomUUID } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import {
  keys,
  type Revocation,
  RevocationFeed,
  RevocationReader,
  RevocationWriter,
  redisRunId,
  type SessionRecord,
  type TokenFacts,
} from '@authlab/revocation'
import { type RedisServer, startRedis } from '@authlab/servers'
import { Redis } from 'ioredis'
import type { StorageRun } from './storage-results.ts'

/** Sessions (and revocation entries) written per batch: a few thousand commands in flight at once. */
const BATCH = 2000
/** Checks timed per measurement of a revocation lookup. */
const LOOKUPS = 20_000

const usedMemory = async (redis: Redis) => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1])

/** A session record as auth writes it at login (a user without roles). */
const sessionRecord = (): SessionRecord => ({
  userId: randomUUID(),
  loginId: randomUUID(),
  expiresAt: Date.now() + 86_400_000,
  roles: [],
})

/** Bytes of Redis memory per live session, for `count` sessions written as auth writes them. */
async function sessionBytes(redis: Redis, writer: RevocationWriter, count: number) {
  await redis.flushall()
  const before = await usedMemory(redis)
  let sample = ''
  for (let i = 0; i < count; i += BATCH) {
    const ids = Array.from({ length: Math.min(BATCH, count - i) }, () =>
      randomBytes(32).toString('base64url'),
    )
    sample = ids[0] as string
    await Promise.all(ids.map((id) => writer.writeSession(id, sessionRecord(), 3_600_000)))
  }
  const after = await usedMemory(redis)
  const { hashSessionId } = await import('@authlab/revocation')
  const one = Number(await redis.memory('USAGE', keys.session(hashSessionId(sample))))
  return { count, bytesPerEntry: (after - before) / count, memoryUsageOfOneKey: one }
}

const loginEntry = (): Revocation => ({
  kind: 'login',
  value: randomUUID(),
  expiresAt: Date.now() + 86_400_000,
})

/** Writes `count` live revocations (one login each) through the revocation script, in batches. */
async function writeRevocations(writer: RevocationWriter, count: number) {
  for (let i = 0; i < count; i += 500) {
    const entries = Array.from({ length: Math.min(500, count - i) }, loginEntry)
    await writer.revoke({ entries, sessionHashes: [], watermark: 0 }, Date.now(), { replicated: false })
  }
}

/** Bytes of Redis memory per revocation entry: its deny key and its member of the live set. */
async function revocationBytes(redis: Redis, writer: RevocationWriter, count: number) {
  await redis.flushall()
  const before = await usedMemory(redis)
  await writeRevocations(writer, count)
  const after = await usedMemory(redis)
  return {
    count,
    bytesPerEntry: (after - before) / count,
    liveSetBytes: Number(await redis.memory('USAGE', keys.liveSet)),
  }
}

/** The heap the collector keeps, after a full collection (the flag is set for this process only). */
function collectedHeap(): number {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const token = (): TokenFacts => ({
  jti: randomUUID(),
  loginId: randomUUID(),
  userId: randomUUID(),
  issuedAt: Math.floor(Date.now() / 1000),
})

/** ns per call of `check`, over LOOKUPS calls of live (unrevoked) tokens, awaited in batches. */
async function nsPerLookup(check: (t: TokenFacts) => unknown): Promise<number> {
  const tokens = Array.from({ length: 1000 }, token)
  const start = process.hrtime.bigint()
  for (let i = 0; i < LOOKUPS; i += 1000) await Promise.all(tokens.map((t) => check(t)))
  return Number(process.hrtime.bigint() - start) / LOOKUPS
}

/** Redis CPU µs per MGET (INFO commandstats) over LOOKUPS denylist checks. */
async function redisUsPerMget(redis: Redis, reader: RevocationReader): Promise<number> {
  await redis.config('RESETSTAT')
  const tokens = Array.from({ length: 1000 }, token)
  for (let i = 0; i < LOOKUPS; i += 1000) await Promise.all(tokens.map((t) => reader.isRevoked(t)))
  const stats = await redis.info('commandstats')
  return Number(/cmdstat_mget:calls=\d+,usec=\d+,usec_per_call=([\d.]+)/.exec(stats)?.[1] ?? Number.NaN)
}

/**
 * With `count` live revocations: the denylist's MGET (Redis CPU per call, round trip per call), and
 * a `jwt-pushed` replica's feed: time to its first complete sync (snapshot at connect), the
 * snapshot's size on the wire, its heap per live revocation and the cost of its local lookup.
 */
async function revocationSet(server: RedisServer, redis: Redis, writer: RevocationWriter, count: number) {
  await redis.flushall()
  await writeRevocations(writer, count)
  await writer.markReady(await redisRunId(redis))
  const members = await redis.zrange(keys.liveSet, 0, -1, 'WITHSCORES')
  // The snapshot's reply as RESP encodes it: a bulk string per member and per score.
  const snapshotBytes = members.reduce((n, m) => n + Buffer.byteLength(m) + String(m.length).length + 5, 0)
  const readerClient = new Redis(server.url)
  const reader = new RevocationReader(readerClient, { readyPollMs: 50 })
  reader.start()
  try {
    while (!(await reader.check())) await new Promise((r) => setTimeout(r, 20))
    const mgetUs = await redisUsPerMget(redis, reader)
    const mgetNs = await nsPerLookup((t) => reader.isRevoked(t))
    const heapBefore = collectedHeap()
    const started = Date.now()
    const feedClient = new Redis(server.url)
    const feed = new RevocationFeed(feedClient, reader)
    feed.start()
    try {
      while (!feed.synced) await new Promise((r) => setTimeout(r, 5))
      const syncMs = Date.now() - started
      const heapPerEntry = (collectedHeap() - heapBefore) / count
      const pushedNs = await nsPerLookup((t) => feed.isRevoked(t))
      return {
        count,
        mgetRedisUs: mgetUs,
        mgetRoundTripNs: mgetNs,
        syncMs,
        snapshotBytes,
        heapPerEntry,
        pushedNs,
      }
    } finally {
      feed.close()
      feedClient.disconnect()
    }
  } finally {
    reader.close()
    readerClient.disconnect()
  }
}

/** Every storage measurement at each of `sizes` (entries), on one fresh Redis without persistence. */
export async function measureStorage(
  sizes: readonly number[],
  log: (line: string) => void,
): Promise<StorageRun> {
  const server = await startRedis({ appendonly: false })
  const redis = new Redis(server.url)
  const writer = new RevocationWriter(redis)
  try {
    const out: StorageRun = { sessions: [], revocations: [], revocationSet: [] }
    for (const n of sizes) {
      log(`storage: ${n} entries`)
      out.sessions.push(await sessionBytes(redis, writer, n))
      out.revocations.push(await revocationBytes(redis, writer, n))
      out.revocationSet.push(await revocationSet(server, redis, writer, n))
    }
    return out
  } finally {
    redis.disconnect()
    await server.close()
  }
}

if (import.meta.main) {
  const { parseArgs } = await import('node:util')
  const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1000,10000,100000' } } })
  const sizes = values.sizes.split(',').map(Number)
  if (sizes.some((n) => !Number.isInteger(n) || n <= 0)) {
    console.error('storage: --sizes takes positive whole numbers, comma-separated')
    process.exit(2)
  }
  console.log(JSON.stringify(await measureStorage(sizes, (l) => console.error(l)), null, 2))
}
