import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createRedis, type RedisClient, redisReady, redisTopology } from '@authlab/clients'
import { type RedisServer, type RedisTopology, startRedisCluster } from '@authlab/servers'
import { Redis } from 'ioredis'
import {
  hashSessionId,
  RevocationFeed,
  RevocationReader,
  RevocationWriter,
  redisRunId,
  type TokenFacts,
} from '../src/index.ts'
import { keys } from '../src/keys.ts'

// One real Redis Cluster (3 primaries, a replica each) for the file; auth's and a replica's ACL users.
let topology: RedisTopology
before(async () => {
  topology = await startRedisCluster()
})
after(() => topology?.close())

async function connect(
  role: 'auth' | 'downstream',
  t: { after(fn: () => unknown): void },
): Promise<RedisClient> {
  const env = topology.envFor(role) as { REDIS_URL: string; REDIS_CLUSTER_NODES: string }
  const client = createRedis({
    ...redisTopology({ ...env, REDIS_MODE: 'cluster', REDIS_SENTINELS: '', REDIS_SENTINEL_NAME: 'authlab' }),
    commandTimeoutMs: 1000,
  })
  client.on('error', () => {})
  client.on('node error', () => {})
  t.after(() => client.disconnect())
  await redisReady(client, 10_000)
  return client
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(25)
  }
}

const token = (): TokenFacts => ({
  jti: randomUUID(),
  loginId: randomUUID(),
  userId: randomUUID(),
  issuedAt: Math.floor(Date.now() / 1000) - 10,
})
const revokeLogin = (writer: RevocationWriter, tk: TokenFacts) =>
  writer.revoke({
    entries: [{ kind: 'login', value: tk.loginId, expiresAt: Date.now() + 60_000 }],
    sessionHashes: [],
    watermark: 0,
  })

const admin = (node: RedisServer) => {
  const redis = new Redis(node.url, { maxRetriesPerRequest: 1 })
  redis.on('error', () => {})
  return redis
}

/** Moves the slot of `key` from its primary to another one, keys and all, as `redis-cli --cluster reshard` does. */
async function migrateSlot(key: string): Promise<{ from: RedisServer; to: RedisServer }> {
  const from = await topology.primaryFor(key)
  const primaries: RedisServer[] = []
  for (const node of topology.nodes) {
    const c = admin(node)
    if (/role:master/.test(await c.info('replication'))) primaries.push(node)
    c.disconnect()
  }
  const to = primaries.find((n) => n !== from)!
  const [src, dst] = [admin(from), admin(to)]
  try {
    const slot = (await src.cluster('KEYSLOT', key)) as number
    const [srcId, dstId] = [(await src.cluster('MYID')) as string, (await dst.cluster('MYID')) as string]
    await dst.cluster('SETSLOT', slot, 'IMPORTING', srcId)
    await src.cluster('SETSLOT', slot, 'MIGRATING', dstId)
    for (;;) {
      const batch = (await src.cluster('GETKEYSINSLOT', slot, 100)) as string[]
      if (batch.length === 0) break
      const password = decodeURIComponent(new URL(from.url).password)
      await src.call('MIGRATE', to.host, to.port, '', 0, 5000, 'AUTH2', 'default', password, 'KEYS', ...batch)
    }
    for (const node of topology.nodes) {
      const c = admin(node)
      await c.cluster('SETSLOT', slot, 'NODE', dstId).catch(() => {})
      c.disconnect()
    }
  } finally {
    src.disconnect()
    dst.disconnect()
  }
  await until('every node agrees on the move', async () => (await topology.primaryFor(key)) === to)
  return { from, to }
}

test('on a Redis Cluster the revocation keys share one slot, sessions spread over the primaries, and a write reaches a replica before it is acknowledged', async (t) => {
  const slots = new Set(
    [
      keys.ready,
      keys.watermark,
      keys.revision,
      keys.liveSet,
      keys.deniedJti('a'),
      keys.deniedLogin('b'),
      keys.userCutoff('c'),
    ].map((k) => k.slice(k.indexOf('{'), k.indexOf('}') + 1)),
  )
  assert.deepEqual([...slots], ['{revocations}'])
  const owners = new Set<RedisServer>()
  for (let i = 0; i < 30; i++) owners.add(await topology.primaryFor(keys.session(randomUUID())))
  assert.equal(owners.size, 3, 'sessions land on every primary')

  const wc = await connect('auth', t)
  const writer = new RevocationWriter(wc, { waitReplicas: 1, waitTimeoutMs: 2000 })
  await writer.markReady(await redisRunId(wc))
  const reader = new RevocationReader(await connect('downstream', t), { readyPollMs: 50 })
  reader.start()
  t.after(() => reader.close())
  await until('reader ready', () => reader.check())
  const tk = token()
  await revokeLogin(writer, tk)
  assert.equal(await reader.isRevoked(tk), true, 'the MGET of jwt-denylist runs on one node')
  const snap = await reader.snapshot()
  assert.ok(
    snap.entries.some((e) => e.value === tk.loginId),
    'the snapshot transaction runs on one node',
  )
})

test('jwt-pushed follows the revocation slot to its new primary after a migration: nothing revoked after the move is missed', async (t) => {
  const wc = await connect('auth', t)
  const writer = new RevocationWriter(wc)
  await writer.markReady(await redisRunId(wc))
  const rc = await connect('downstream', t)
  const reader = new RevocationReader(rc, { readyPollMs: 50 })
  reader.start()
  t.after(() => reader.close())
  await until('reader ready', () => reader.check())
  const feed = new RevocationFeed(rc, reader, { heartbeatMs: 50 })
  feed.start()
  t.after(() => feed.close())
  await until('feed synced', () => feed.synced)
  const before = token()
  await revokeLogin(writer, before)
  await until('revocation before the move pushed', () => feed.isRevoked(before))

  const resyncs = feed.resyncs
  const { from, to } = await migrateSlot(keys.ready)
  assert.notEqual(from, to)
  // The marker moved with the slot but names the old primary's process, so readers stop trusting
  // it; auth's reconciler re-marks it once its own client knows the new owner. Done here by hand.
  await until('the marker names the new primary', async () => {
    await writer.markReady(await redisRunId(wc)).catch(() => {})
    return reader.check()
  })
  const afterMove = Array.from({ length: 5 }, token)
  for (const tk of afterMove) {
    await until('revocation written on the new primary', async () => {
      try {
        await revokeLogin(writer, tk)
        return true
      } catch {
        return false
      }
    })
  }
  await until('every revocation after the move reached the feed', () =>
    afterMove.every((tk) => feed.isRevoked(tk)),
  )
  // The messages can arrive (in order, so they apply) before the resync on the new primary has
  // completed; the feed counts itself fresh again only once it has.
  await until('the feed resynced on the new primary', () => feed.synced && feed.resyncs > resyncs)
})

test('WAIT asks only the primaries written to: a shard without its replica refuses a session write (503), the revocation slot still takes revocations', async (t) => {
  const wc = await connect('auth', t)
  const writer = new RevocationWriter(wc, { waitReplicas: 1, waitTimeoutMs: 300 })
  const revocationPrimary = await topology.primaryFor(keys.ready)
  // A session id whose key lives on another primary, and that primary's replica.
  let sessionId = randomUUID()
  while ((await topology.primaryFor(keys.session(hashSessionId(sessionId)))) === revocationPrimary)
    sessionId = randomUUID()
  const primary = await topology.primaryFor(keys.session(hashSessionId(sessionId)))
  let replica: RedisServer | undefined
  for (const node of topology.nodes) {
    const c = admin(node)
    if (new RegExp(`master_port:${primary.port}\\b`).test(await c.info('replication'))) replica = node
    c.disconnect()
  }
  assert.ok(replica, 'the primary has a replica')
  await replica.kill()
  t.after(async () => {
    await replica.start()
    await topology.healthy(60_000)
  })
  await until('the primary has lost its replica', async () => {
    const c = admin(primary)
    const info = await c.info('replication')
    c.disconnect()
    return /connected_slaves:0/.test(info)
  })
  const record = { userId: randomUUID(), loginId: randomUUID(), expiresAt: Date.now() + 60_000, roles: [] }
  await assert.rejects(writer.writeSession(sessionId, record, 60_000), {
    code: 'AUTHLAB_REDIS_NOT_REPLICATED',
  })
  await revokeLogin(writer, token())
})
