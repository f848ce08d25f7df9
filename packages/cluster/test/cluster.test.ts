import assert from 'node:assert/strict'
import * as nodeCrypto from 'node:crypto'
import { generateKeyPairSync } from 'node:crypto'
import { tmpdir } from 'node:os'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { MODES, type Mode } from '@authlab/contract'
import pg from 'pg'
import { type Cluster, ServiceProcess, startCluster } from '../src/index.ts'

// One real cluster for the file: Redis, Postgres, auth, 3 replicas each of orders and profile, nginx.
const REPLICAS = 3
const ACCESS_TTL_S = 6
const CLOCK_TOLERANCE_S = 1
const PUSHED_BOUND_MS = 1500
const CACHE_TTL_MS = 1000
let cluster: Cluster
before(async () => {
  cluster = await startCluster({
    replicas: REPLICAS,
    port: 0,
    env: {
      ACCESS_TOKEN_TTL_S: String(ACCESS_TTL_S),
      JWT_CLOCK_TOLERANCE_S: String(CLOCK_TOLERANCE_S),
      PUSHED_MAX_STALENESS_MS: String(PUSHED_BOUND_MS),
      SESSION_CACHE_TTL_MS: String(CACHE_TTL_MS),
      LOGIN_RATE_LIMIT_PER_IP: '100000',
      LOGIN_RATE_LIMIT_PER_ACCOUNT: '100000',
      LOGIN_RATE_LIMIT_PER_ACCOUNT_IP: '100000',
      GATEWAY_LOGIN_RATE: '100000r/s',
      GATEWAY_LOGIN_BURST: '100000',
    },
  })
})
after(() => cluster?.close())

interface Login {
  accessToken: string
  sessionId: string
  user: { id: string }
}
let n = 0
const PASSWORD = 'correct horse battery staple'
const json = { 'content-type': 'application/json' }
async function register(): Promise<string> {
  const email = `c${++n}-${Date.now()}@example.test`
  const body = JSON.stringify({ email, password: PASSWORD })
  assert.equal(
    (await fetch(`${cluster.url}/auth/register`, { method: 'POST', headers: json, body })).status,
    201,
  )
  return email
}
async function login(email: string): Promise<Login> {
  const body = JSON.stringify({ email, password: PASSWORD })
  const res = await fetch(`${cluster.url}/auth/login`, { method: 'POST', headers: json, body })
  assert.equal(res.status, 200)
  return (await res.json()) as Login
}
const newLogin = async () => login(await register())

function credentialHeaders(
  mode: Mode,
  login: { accessToken?: string; sessionId?: string },
): Record<string, string> {
  // phantom: the client presents its session; the gateway exchanges it for the internal token.
  if (mode === 'session' || mode === 'session-cached' || mode === 'phantom')
    return login.sessionId ? { cookie: `sid=${login.sessionId}` } : {}
  return login.accessToken ? { authorization: `Bearer ${login.accessToken}` } : {}
}

/** Requests until every replica of `service` has answered at least `perReplica` times; status by replica. */
async function acrossReplicas(service: string, mode: Mode, login: Partial<Login>, perReplica = 1) {
  const byReplica = new Map<string, number[]>()
  for (
    let i = 0;
    i < REPLICAS * perReplica * 3 &&
    [...byReplica.values()].filter((s) => s.length >= perReplica).length < REPLICAS;
    i++
  ) {
    const res = await fetch(`${cluster.url}/${service}/${mode}/me`, {
      headers: credentialHeaders(mode, login),
    })
    await res.arrayBuffer()
    const replica = res.headers.get('x-replica') ?? 'none'
    byReplica.set(replica, [...(byReplica.get(replica) ?? []), res.status])
  }
  return byReplica
}

const statuses = (m: Map<string, number[]>) => [...m.values()].flat()

async function logoutAll(login: Login) {
  const res = await fetch(`${cluster.url}/auth/logout-all`, {
    method: 'POST',
    headers: { authorization: `Bearer ${login.accessToken}` },
  })
  assert.equal(res.status, 204)
}

test('a replica whose port another replica holds does not pass for started: the probe checks who answered', async (t) => {
  const taken = cluster.replica('orders', 0)
  const impostor = new ServiceProcess('orders', 'orders-99', taken.port, {}, tmpdir())
  t.after(() => impostor.stop())
  await assert.rejects(impostor.start(), /orders-99/)
  assert.equal(
    (await fetch(`${taken.url}/orders/healthz`)).headers.get('x-replica'),
    'orders-1',
    'the holder is untouched',
  )
})

test('a valid credential is accepted in every mode on every replica of both services', async () => {
  const login = await newLogin()
  for (const service of ['orders', 'profile']) {
    for (const mode of MODES) {
      const seen = await acrossReplicas(service, mode, login)
      assert.equal(seen.size, REPLICAS, `${service}/${mode} spread over all replicas: ${[...seen.keys()]}`)
      assert.deepEqual(new Set(statuses(seen)), new Set([200]), `${service}/${mode}`)
    }
  }
})

test('after logout-all: session, jwt-denylist and introspect reject at once on every replica', async () => {
  const login = await newLogin()
  await logoutAll(login)
  for (const mode of ['session', 'jwt-denylist', 'introspect'] as const) {
    const seen = await acrossReplicas('orders', mode, login, 2)
    assert.equal(seen.size, REPLICAS)
    assert.deepEqual(new Set(statuses(seen)), new Set([401]), mode)
  }
})

test(`after logout-all: jwt-pushed rejects on every replica within ${PUSHED_BOUND_MS} ms`, async () => {
  const login = await newLogin()
  await logoutAll(login)
  const started = Date.now()
  let seen = await acrossReplicas('profile', 'jwt-pushed', login)
  while (statuses(seen).some((s) => s !== 401) && Date.now() - started < PUSHED_BOUND_MS) {
    seen = await acrossReplicas('profile', 'jwt-pushed', login)
  }
  assert.equal(seen.size, REPLICAS)
  assert.deepEqual(new Set(statuses(seen)), new Set([401]))
})

test(`after logout-all: session-cached may serve a cached session for at most its TTL (${CACHE_TTL_MS} ms), then rejects`, async () => {
  const login = await newLogin()
  await acrossReplicas('orders', 'session-cached', login) // prime every replica's cache
  await logoutAll(login)
  const cachedRightAfter = statuses(await acrossReplicas('orders', 'session-cached', login))
  assert.ok(cachedRightAfter.every((s) => s === 200 || s === 401))
  await sleep(CACHE_TTL_MS + 100)
  assert.deepEqual(new Set(statuses(await acrossReplicas('orders', 'session-cached', login))), new Set([401]))
})

test('after logout-all: jwt keeps accepting the revoked token until exp, then rejects it', async () => {
  const login = await newLogin()
  await logoutAll(login)
  assert.deepEqual(
    new Set(statuses(await acrossReplicas('orders', 'jwt', login))),
    new Set([200]),
    'stateless: still valid',
  )
  const exp = JSON.parse(Buffer.from(login.accessToken.split('.')[1]!, 'base64url').toString()).exp
  await sleep(Math.max(0, exp * 1000 - Date.now()) + CLOCK_TOLERANCE_S * 1000 + 1100)
  assert.deepEqual(new Set(statuses(await acrossReplicas('orders', 'jwt', login))), new Set([401]), 'expired')
})

function forge(accessToken: string) {
  const [h, p, s] = accessToken.split('.') as [string, string, string]
  const header = JSON.parse(Buffer.from(h, 'base64url').toString())
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString())
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const { privateKey } = generateKeyPairSync('ed25519')
  const { sign } = nodeCrypto
  const signed = (hdr: object, pl: object) => {
    const input = `${enc(hdr)}.${enc(pl)}`
    return `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`
  }
  return {
    'alg none': `${enc({ ...header, alg: 'none' })}.${p}.`,
    'wrong kid': signed({ ...header, kid: 'not-a-key' }, payload),
    'right kid, other key': signed(header, payload),
    expired: signed(header, { ...payload, exp: now - 10 }),
    'not yet valid': signed(header, { ...payload, nbf: now + 3600 }),
    'wrong iss': signed(header, { ...payload, iss: 'evil' }),
    'wrong aud': signed(header, { ...payload, aud: 'evil' }),
    'tampered payload': `${h}.${enc({ ...payload, sub: '00000000-0000-0000-0000-000000000000' })}.${s}`,
    truncated: accessToken.slice(0, -10),
    garbage: 'garbage',
    'jku header': signed({ ...header, jku: 'http://127.0.0.1:1/jwks.json' }, payload),
  }
}
test('forged JWTs are 401 (never 500) in every JWT mode on every replica', async () => {
  const login = await newLogin()
  const forged = forge(login.accessToken)
  for (const [name, token] of Object.entries(forged)) {
    for (const mode of ['jwt', 'jwt-denylist', 'jwt-pushed', 'introspect'] as const) {
      const seen = await acrossReplicas('orders', mode, { accessToken: token })
      assert.deepEqual(new Set(statuses(seen)), new Set([401]), `${name} in ${mode}`)
    }
  }
})

test('HS256 signed with the public key (algorithm confusion) is 401', async () => {
  const login = await newLogin()
  const jwks = (await (await fetch(`${cluster.url}/.well-known/jwks.json`)).json()) as { keys: object[] }
  const [h, p] = login.accessToken.split('.') as [string, string]
  const header = { ...JSON.parse(Buffer.from(h, 'base64url').toString()), alg: 'HS256' }
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${p}`
  const secret = nodeCrypto
    .createPublicKey({ key: jwks.keys[0] as never, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
  const token = `${input}.${nodeCrypto.createHmac('sha256', secret).update(input).digest('base64url')}`
  for (const mode of ['jwt', 'jwt-denylist', 'jwt-pushed', 'introspect'] as const) {
    assert.deepEqual(
      new Set(statuses(await acrossReplicas('orders', mode, { accessToken: token }))),
      new Set([401]),
      mode,
    )
  }
})

test('unknown, malformed and tampered session ids are 401 in session modes and introspect', async () => {
  const login = await newLogin()
  const tampered = `${login.sessionId.slice(0, -1)}${login.sessionId.endsWith('A') ? 'B' : 'A'}`
  for (const sid of [tampered, 'A'.repeat(43), 'short', '../../etc/passwd']) {
    for (const mode of ['session', 'session-cached'] as const) {
      assert.deepEqual(
        new Set(statuses(await acrossReplicas('profile', mode, { sessionId: sid }))),
        new Set([401]),
        `${sid} ${mode}`,
      )
    }
    const res = await fetch(`${cluster.url}/profile/introspect/me`, { headers: { cookie: `sid=${sid}` } })
    assert.equal(res.status, 401)
  }
  const none = await fetch(`${cluster.url}/orders/session/me`)
  assert.equal(none.status, 401)
  assert.match(none.headers.get('www-authenticate') ?? '', /realm="authlab"/)
})

test('one replica killed under steady requests: no idempotent request fails (nginx retries the next)', async () => {
  const login = await newLogin()
  const victim = cluster.replica('orders', 1)
  const failures: number[] = []
  let count = 0
  let running = true
  const load = (async () => {
    while (running) {
      const res = await fetch(`${cluster.url}/orders/jwt/me`, { headers: credentialHeaders('jwt', login) })
      await res.arrayBuffer()
      count++
      if (res.status !== 200) failures.push(res.status)
    }
  })()
  await sleep(300)
  await victim.kill()
  await sleep(1000)
  running = false
  await load
  await victim.start()
  assert.ok(count > 50, `steady requests were sent (${count})`)
  assert.deepEqual(failures, [])
})

test('auth stopped: jwt, jwt-denylist and jwt-pushed keep verifying with cached keys; introspect answers 503', async () => {
  const login = await newLogin()
  await cluster.auth.stop()
  try {
    for (const mode of ['jwt', 'jwt-denylist', 'jwt-pushed'] as const) {
      assert.deepEqual(new Set(statuses(await acrossReplicas('profile', mode, login))), new Set([200]), mode)
    }
    assert.deepEqual(new Set(statuses(await acrossReplicas('profile', 'introspect', login))), new Set([503]))
  } finally {
    await cluster.auth.start()
  }
})

test('redis stopped: session and jwt-denylist fail closed (503), jwt serves, jwt-pushed serves then 503 past its bound', async () => {
  const login = await newLogin()
  await acrossReplicas('orders', 'session-cached', login) // cached everywhere
  await cluster.redis.stop()
  try {
    const right = Object.fromEntries(
      await Promise.all(
        (['session', 'jwt-denylist', 'jwt', 'jwt-pushed', 'introspect', 'none'] as const).map(
          async (m) => [m, new Set(statuses(await acrossReplicas('orders', m, login)))] as const,
        ),
      ),
    )
    assert.deepEqual(right.session, new Set([503]))
    assert.deepEqual(right['jwt-denylist'], new Set([503]))
    assert.deepEqual(right.jwt, new Set([200]))
    assert.deepEqual(right.none, new Set([200]))
    assert.deepEqual(
      right['jwt-pushed'],
      new Set([200]),
      'within the staleness bound it serves from local state',
    )
    assert.deepEqual(right.introspect, new Set([503]))
    await sleep(PUSHED_BOUND_MS + 300)
    assert.deepEqual(new Set(statuses(await acrossReplicas('orders', 'jwt-pushed', login))), new Set([503]))
    assert.deepEqual(
      new Set(statuses(await acrossReplicas('orders', 'session-cached', login))),
      new Set([503]),
      'cache TTL passed',
    )
  } finally {
    await cluster.redis.start()
  }
  // Sessions survive a plain restart (AOF).
  await sleep(1500)
  assert.deepEqual(new Set(statuses(await acrossReplicas('orders', 'session', login))), new Set([200]))
})

test('redis restarted: jwt-pushed catches up on a revocation made before it resubscribed', async () => {
  const login = await newLogin()
  await cluster.redis.restart()
  // Replicas reconnect with backoff; revoke at once, likely before some have resubscribed.
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${cluster.url}/auth/logout-all`, {
      method: 'POST',
      headers: { authorization: `Bearer ${login.accessToken}` },
    })
    if (res.status === 204) break
    await sleep(50)
  }
  await sleep(PUSHED_BOUND_MS)
  const seen = await acrossReplicas('profile', 'jwt-pushed', login)
  assert.equal(seen.size, REPLICAS)
  assert.deepEqual(new Set(statuses(seen)), new Set([401]))
})

test('redis restarted with its data lost: no revoked credential becomes valid on any mode', async () => {
  const revoked = await newLogin()
  await logoutAll(revoked)
  await cluster.redis.restart({ wipeData: true })
  const deadline = Date.now() + 5000
  // While auth rebuilds, modes may answer 503; at no moment may the revoked token get a 200.
  while (Date.now() < deadline) {
    for (const mode of ['session', 'session-cached', 'jwt-denylist', 'jwt-pushed', 'introspect'] as const) {
      const seen = statuses(await acrossReplicas('orders', mode, revoked))
      assert.ok(!seen.includes(200), `${mode} accepted a revoked credential after data loss: ${seen}`)
    }
    await sleep(200)
  }
  // And once rebuilt, a new login works everywhere again.
  const fresh = await newLogin()
  for (const mode of ['session', 'jwt-denylist', 'jwt-pushed', 'introspect'] as const) {
    assert.deepEqual(new Set(statuses(await acrossReplicas('orders', mode, fresh))), new Set([200]), mode)
  }
})

test('the JWT modes also take the access_token cookie set at login, on every replica', async () => {
  const login = await newLogin()
  for (const mode of ['jwt', 'jwt-denylist', 'jwt-pushed', 'introspect'] as const) {
    const seen = new Map<string, number[]>()
    for (let i = 0; i < REPLICAS * 3 && seen.size < REPLICAS; i++) {
      const res = await fetch(`${cluster.url}/profile/${mode}/me`, {
        headers: { cookie: `access_token=${login.accessToken}` },
      })
      await res.arrayBuffer()
      const replica = res.headers.get('x-replica') ?? 'none'
      seen.set(replica, [...(seen.get(replica) ?? []), res.status])
    }
    assert.equal(seen.size, REPLICAS, mode)
    assert.deepEqual(new Set(statuses(seen)), new Set([200]), mode)
  }
})

/** Statuses from every replica of `service`, at least one answer each. */
async function statusesFromEvery(service: string, mode: Mode, login: Login): Promise<number[]> {
  const seen = await acrossReplicas(service, mode, login)
  assert.equal(seen.size, REPLICAS, `${service}/${mode} reached every replica`)
  return statuses(seen)
}

const STATEFUL: Mode[] = ['session', 'session-cached', 'jwt-denylist', 'jwt-pushed', 'introspect']

test('partial Redis data loss (restart from an AOF taken before a logout): the logout is not undone in any mode on any replica', async () => {
  const email = await register()
  const victim = await login(email)
  const bystander = await login(await register())
  for (const mode of STATEFUL)
    assert.deepEqual(new Set(await statusesFromEvery('orders', mode, victim)), new Set([200]), mode)
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
      const seen = await statusesFromEvery('orders', mode, victim)
      if (startedAt <= revokedAt + (bound[mode] ?? 0)) continue
      assert.ok(!seen.includes(200), `${mode} accepted the logged-out login after the data loss: ${seen}`)
    }
  }
  await cluster.waitUntilReady()
  for (const mode of STATEFUL) {
    assert.deepEqual(
      new Set(await statusesFromEvery('profile', mode, victim)),
      new Set([401]),
      `${mode} rejects`,
    )
    assert.deepEqual(
      new Set(await statusesFromEvery('profile', mode, bystander)),
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
        assert.deepEqual(new Set(await statusesFromEvery('orders', mode, l)), new Set([expected]), `${mode}`)
      }
    }
  } finally {
    await db.end()
  }
})
