import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Mode } from '@authlab/contract'
import pg from 'pg'
import { type Cluster, startCluster } from '../src/index.ts'

// The holes that the revocation store closes, each shown on a real cluster: 3 replicas of each
// service behind nginx, real Redis (AOF everysec) and Postgres.
const REPLICAS = 3
const CACHE_TTL_MS = 500
const PUSHED_BOUND_MS = 1000
let cluster: Cluster
before(async () => {
  cluster = await startCluster({
    replicas: REPLICAS,
    port: 0,
    env: {
      SESSION_CACHE_TTL_MS: String(CACHE_TTL_MS),
      PUSHED_MAX_STALENESS_MS: String(PUSHED_BOUND_MS),
      LOGIN_RATE_LIMIT_PER_IP: '100000',
      LOGIN_RATE_LIMIT_PER_ACCOUNT: '100000',
    },
  })
})
after(() => cluster?.close())

const headers = { 'content-type': 'application/json' }
const PASSWORD = 'correct horse battery staple'
interface Login {
  accessToken: string
  sessionId: string
  user: { id: string }
}
let n = 0
async function register(): Promise<string> {
  const email = `hole${++n}-${Date.now()}@example.test`
  const res = await fetch(`${cluster.url}/auth/register`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ email, password: PASSWORD }),
  })
  assert.equal(res.status, 201)
  return email
}
async function login(email: string): Promise<Login> {
  const res = await fetch(`${cluster.url}/auth/login`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ email, password: PASSWORD }),
  })
  assert.equal(res.status, 200)
  return (await res.json()) as Login
}
const credential = (mode: Mode, l: Login): Record<string, string> =>
  mode === 'session' || mode === 'session-cached'
    ? { cookie: `sid=${l.sessionId}` }
    : { authorization: `Bearer ${l.accessToken}` }

/** Statuses from every replica of `service` (at least `perReplica` answers each). */
async function everyReplica(service: string, mode: Mode, l: Login, perReplica = 1): Promise<number[]> {
  const seen = new Map<string, number[]>()
  for (
    let i = 0;
    i < REPLICAS * perReplica * 4 &&
    [...seen.values()].filter((s) => s.length >= perReplica).length < REPLICAS;
    i++
  ) {
    const res = await fetch(`${cluster.url}/${service}/${mode}/me`, { headers: credential(mode, l) })
    await res.arrayBuffer()
    const replica = res.headers.get('x-replica') ?? '-'
    seen.set(replica, [...(seen.get(replica) ?? []), res.status])
  }
  assert.equal(seen.size, REPLICAS, `${service}/${mode} reached every replica`)
  return [...seen.values()].flat()
}

async function waitForReadiness() {
  const urls = [
    `http://127.0.0.1:${cluster.auth.port}/auth/readyz`,
    ...[...cluster.replicas.values()].flat().map((r) => `${r.url}/${r.service}/readyz`),
  ]
  const deadline = Date.now() + 15_000
  for (const url of urls) {
    while (
      !(await fetch(url).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (Date.now() > deadline) throw new Error(`not ready within 15 s: ${url}`)
      await sleep(50)
    }
  }
}

const STATEFUL: Mode[] = ['session', 'session-cached', 'jwt-denylist', 'jwt-pushed', 'introspect']

test('partial Redis data loss (restart from an AOF taken before a logout): the logout is not undone in any mode on any replica', async () => {
  const email = await register()
  const victim = await login(email)
  const bystander = await login(await register())
  for (const mode of STATEFUL)
    assert.deepEqual(new Set(await everyReplica('orders', mode, victim)), new Set([200]), mode)
  // Everything up to here is on disk (everysec); the logout that follows is what the crash loses.
  await sleep(1100)
  const copy = await cluster.redis.copyData()
  let revokedAt = 0
  try {
    const res = await fetch(`${cluster.url}/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${victim.accessToken}` },
    })
    assert.equal(res.status, 204)
    revokedAt = Date.now()
    await cluster.redis.restart({ restoreFrom: copy })
  } finally {
    await copy.discard()
  }
  // From the restart on, no mode may accept the logged-out login beyond its bound: 503 while auth
  // reconciles, then 401.
  const bound: Partial<Record<Mode, number>> = {
    'session-cached': CACHE_TTL_MS,
    'jwt-pushed': PUSHED_BOUND_MS,
  }
  const deadline = Date.now() + 3000
  while (Date.now() < deadline) {
    for (const mode of STATEFUL) {
      const startedAt = Date.now()
      const seen = await everyReplica('orders', mode, victim)
      if (startedAt <= revokedAt + (bound[mode] ?? 0)) continue
      assert.ok(!seen.includes(200), `${mode} accepted the logged-out login after the data loss: ${seen}`)
    }
  }
  await waitForReadiness()
  for (const mode of STATEFUL) {
    assert.deepEqual(new Set(await everyReplica('profile', mode, victim)), new Set([401]), `${mode} rejects`)
    assert.deepEqual(
      new Set(await everyReplica('profile', mode, bystander)),
      new Set([200]),
      `${mode} serves others`,
    )
  }
})

test('logout-all racing 50 concurrent logins: every login that existed when logout-all committed is revoked', async () => {
  const email = await register()
  const first = await login(email)
  const logins = Array.from({ length: 50 }, (_, i) => sleep(i % 10).then(() => login(email)))
  await sleep(15)
  const logoutAll = await fetch(`${cluster.url}/auth/logout-all`, {
    method: 'POST',
    headers: { authorization: `Bearer ${first.accessToken}` },
  })
  assert.equal(logoutAll.status, 204)
  const racing = await Promise.all(logins)
  // Postgres is the judge of order: a login is live only if it committed after logout-all.
  const db = new pg.Client({ connectionString: cluster.postgres.url })
  await db.connect()
  try {
    const { rows } = await db.query<{ id: string; live: boolean; after_cutoff: boolean }>(
      `SELECT l.id, l.revoked_at IS NULL AS live,
              l.created_at > (SELECT max(r.revoked_at) FROM revocations r WHERE r.kind = 'user' AND r.user_id = l.user_id) AS after_cutoff
         FROM logins l JOIN users u ON u.id = l.user_id WHERE u.email = $1`,
      [email],
    )
    assert.equal(rows.length, 51)
    const liveBefore = rows.filter((r) => r.live && !r.after_cutoff)
    assert.deepEqual(liveBefore, [], 'no login that predates logout-all survived it')
    const revoked = new Set(rows.filter((r) => !r.live).map((r) => r.id))
    assert.ok(revoked.size >= 1)
    // And what Postgres says is what every mode does, on every replica.
    const sid = (l: Login) =>
      JSON.parse(Buffer.from(l.accessToken.split('.')[1] as string, 'base64url').toString()).sid
    for (const l of [first, ...racing]) {
      const expected = revoked.has(sid(l)) ? 401 : 200
      for (const mode of ['session', 'jwt-denylist', 'introspect'] as const) {
        assert.deepEqual(new Set(await everyReplica('orders', mode, l)), new Set([expected]), `${mode}`)
      }
    }
  } finally {
    await db.end()
  }
})
