import assert from 'node:assert/strict'
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { ACCESS_TOKEN_TYPE, INTERNAL_AUDIENCE } from '@authlab/contract'
import { type Cluster, startCluster, UNLIMITED_LOGINS_ENV } from '../src/index.ts'

/*
 * The phantom mode through the real gateway: nginx's auth_request trades the client's session at
 * auth's exchange for an internal token, caches the trade per credential for PHANTOM_CACHE_TTL_MS,
 * and overwrites Authorization with it; every replica verifies that token locally.
 */

const REPLICAS = 2
const TTL_MS = 1000
const PASSWORD = 'correct horse battery staple'
const json = { 'content-type': 'application/json' }
/** Slack for a request that started just past the bound to be answered (not part of the bound). */
const EPSILON_MS = 20

let cluster: Cluster
before(async () => {
  cluster = await startCluster({
    replicas: REPLICAS,
    services: ['orders'],
    port: 0,
    env: { ...UNLIMITED_LOGINS_ENV, PHANTOM_CACHE_TTL_MS: String(TTL_MS) },
  })
})
after(() => cluster?.close())

interface Login {
  accessToken: string
  sessionId: string
  user: { id: string }
}

async function register(): Promise<string> {
  const email = `ph${Date.now()}-${Math.random().toString(36).slice(2)}@example.test`
  const body = JSON.stringify({ email, password: PASSWORD })
  const res = await fetch(`${cluster.url}/auth/register`, { method: 'POST', headers: json, body })
  assert.equal(res.status, 201)
  return email
}

async function login(email: string): Promise<Login> {
  const body = JSON.stringify({ email, password: PASSWORD })
  const res = await fetch(`${cluster.url}/auth/login`, { method: 'POST', headers: json, body })
  assert.equal(res.status, 200)
  return (await res.json()) as Login
}
const newLogin = async () => login(await register())

const cookie = (l: Login) => ({ cookie: `sid=${l.sessionId}` })
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** GET `path` through the gateway until every replica answered twice (bounded); statuses by replica. */
async function acrossReplicas(path: string, headers: Record<string, string>): Promise<Map<string, number[]>> {
  const seen = new Map<string, number[]>()
  for (let i = 0; i < REPLICAS * 8; i++) {
    if (seen.size === REPLICAS && [...seen.values()].every((s) => s.length >= 2)) break
    const res = await fetch(`${cluster.url}${path}`, { headers })
    await res.arrayBuffer()
    const replica = res.headers.get('x-replica') ?? 'gateway'
    seen.set(replica, [...(seen.get(replica) ?? []), res.status])
  }
  return seen
}
const statuses = (m: Map<string, number[]>) => new Set([...m.values()].flat())

/** The same, for an answer the gateway gives itself (no replica reached): `count` requests. */
async function gatewayStatuses(path: string, headers: Record<string, string>, count = REPLICAS * 2) {
  const seen = new Set<number>()
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${cluster.url}${path}`, { headers })
    await res.arrayBuffer()
    seen.add(res.status)
  }
  return seen
}

async function logout(l: Login): Promise<number> {
  const res = await fetch(`${cluster.url}/auth/logout`, { method: 'POST', headers: bearer(l.accessToken) })
  assert.equal(res.status, 204)
  return Date.now()
}

/** Waits until `at` (ms since the epoch) has passed. */
const until = async (at: number) => {
  const wait = at - Date.now()
  if (wait > 0) await sleep(wait)
}

/** Waits for the start of a second, so an exchange made now is cached for most of its TTL. */
async function secondStart() {
  await sleep(1000 - (Date.now() % 1000) + 5)
}

/** An internal token as auth's exchange gives one, straight from auth's own port (not routed). */
async function internalToken(l: Login): Promise<string> {
  const res = await fetch(`${cluster.auth.url}/auth/exchange`, { headers: cookie(l) })
  assert.equal(res.status, 204)
  return String(res.headers.get('x-phantom-authorization')).replace(/^Bearer /, '')
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')

/**
 * Internal-audience tokens no gateway should ever let through: one signed with a fresh key under
 * the real token's kid, and the real token's header and signature around a payload granting admin.
 */
function impostors(internal: string, l: Login) {
  const [header, , signature] = internal.split('.') as [string, string, string]
  const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string }
  const now = Math.floor(Date.now() / 1000)
  const claims = {
    iss: 'authlab',
    aud: INTERNAL_AUDIENCE,
    sub: l.user.id,
    sid: randomUUID(),
    jti: randomUUID(),
    roles: ['admin'],
    iat: now,
    exp: now + 10,
  }
  const input = `${b64({ alg: 'EdDSA', typ: ACCESS_TOKEN_TYPE, kid })}.${b64(claims)}`
  const otherKey = `${input}.${sign(null, Buffer.from(input), generateKeyPairSync('ed25519').privateKey).toString('base64url')}`
  return { otherKey, forged: `${header}.${b64(claims)}.${signature}` }
}

const replicaUrl = () => cluster.replicas.get('orders')![0]!.url

test('phantom: GET /orders/phantom/me with the sid cookie and with the session id as Bearer is 200 on every replica, as the session’s user', async () => {
  const l = await newLogin()
  for (const headers of [cookie(l), bearer(l.sessionId)]) {
    const seen = await acrossReplicas('/orders/phantom/me', headers)
    assert.equal(seen.size, REPLICAS, `every replica answered (${[...seen.keys()]})`)
    assert.deepEqual(statuses(seen), new Set([200]), JSON.stringify(Object.keys(headers)))
    const res = await fetch(`${cluster.url}/orders/phantom/me`, { headers })
    const body = (await res.json()) as { sub: string; mode: string; roles: string[] }
    assert.equal(body.sub, l.user.id)
    assert.equal(body.mode, 'phantom')
    assert.deepEqual(body.roles, [])
  }
  const none = await fetch(`${cluster.url}/orders/phantom/me`)
  assert.equal(none.status, 401)
  assert.match(String(none.headers.get('www-authenticate')), /realm="authlab"/)
  assert.equal(((await none.json()) as { statusCode: number }).statusCode, 401)
})

test('phantom: after logout every replica refuses within PHANTOM_CACHE_TTL_MS of the logout returning, and the cached exchange is what serves until then', async () => {
  const l = await newLogin()
  await acrossReplicas('/orders/phantom/me', cookie(l))
  await secondStart()
  // Cached now, for the rest of this second (auth's X-Accel-Expires keeps within the TTL).
  const warm = await fetch(`${cluster.url}/orders/phantom/me`, { headers: cookie(l) })
  await warm.arrayBuffer()
  assert.equal(warm.status, 200)
  const returned = await logout(l)
  const soon = await fetch(`${cluster.url}/orders/phantom/me`, { headers: cookie(l) })
  await soon.arrayBuffer()
  if (Date.now() < returned + TTL_MS - 200) {
    assert.equal(soon.status, 200, 'the gateway served its cached exchange (the cache is in use)')
  }
  await until(returned + TTL_MS + EPSILON_MS)
  const seen = await acrossReplicas('/orders/phantom/me', cookie(l))
  assert.deepEqual(statuses(seen), new Set([401]), `past the bound: ${JSON.stringify([...seen])}`)
  const res = await fetch(`${cluster.url}/orders/phantom/me`, { headers: cookie(l) })
  assert.equal(res.status, 401)
  assert.match(String(res.headers.get('www-authenticate')), /^Cookie realm="authlab"/)
})

test('phantom: a role change reaches /orders/phantom/admin on every replica within PHANTOM_CACHE_TTL_MS, granted and withdrawn', async () => {
  const bossEmail = await register()
  assert.match(await cluster.admin('roles', bossEmail, 'admin'), /roles \[admin\]/)
  const boss = await login(bossEmail)
  const l = await newLogin()
  const setRoles = async (roles: string[]) => {
    const res = await fetch(`${cluster.url}/auth/admin/users/${l.user.id}/roles`, {
      method: 'PUT',
      headers: { ...json, ...bearer(boss.accessToken) },
      body: JSON.stringify({ roles }),
    })
    assert.equal(res.status, 200, await res.text())
    return Date.now()
  }
  assert.deepEqual(statuses(await acrossReplicas('/orders/phantom/admin', cookie(l))), new Set([403]))
  await until((await setRoles(['admin'])) + TTL_MS + EPSILON_MS)
  assert.deepEqual(
    statuses(await acrossReplicas('/orders/phantom/admin', cookie(l))),
    new Set([200]),
    'granted',
  )
  await until((await setRoles([])) + TTL_MS + EPSILON_MS)
  assert.deepEqual(
    statuses(await acrossReplicas('/orders/phantom/admin', cookie(l))),
    new Set([403]),
    'withdrawn',
  )
})

test('phantom security: a client’s own Bearer access token, an internal token it obtained, one signed with another key under the real kid, and a forged one never get through the gateway as phantom', async () => {
  const l = await newLogin()
  const internal = await internalToken(l)
  const { otherKey, forged } = impostors(internal, l)
  for (const token of [l.accessToken, internal, otherKey, forged]) {
    // Alone, and beside a live session cookie: the client's Authorization never reaches a replica.
    for (const headers of [bearer(token), { ...bearer(token), ...cookie(l) }]) {
      const seen = await gatewayStatuses('/orders/phantom/me', headers)
      assert.deepEqual(seen, new Set([401]), `${token.slice(0, 16)}… ${Object.keys(headers)}`)
    }
  }
  // A scheme auth does not read leaves the cookie as the credential, and the gateway still replaces it.
  const basic = await acrossReplicas('/orders/phantom/me', {
    authorization: 'Basic Zm9vOmJhcg==',
    ...cookie(l),
  })
  assert.deepEqual(statuses(basic), new Set([200]))
})

test('phantom security: a replica’s phantom refuses a public access token and tokens of another key or forged; jwt and jwt-denylist refuse an internal token', async () => {
  const l = await newLogin()
  const internal = await internalToken(l)
  const direct = (mode: string, token: string) =>
    fetch(`${replicaUrl()}/orders/${mode}/me`, { headers: bearer(token) }).then(async (r) => {
      await r.arrayBuffer()
      return r.status
    })
  assert.equal(
    await direct('phantom', internal),
    200,
    'the control: the replica takes the real internal token',
  )
  assert.equal(
    await direct('phantom', l.accessToken),
    401,
    'a public access token where the internal audience is required',
  )
  const { otherKey, forged } = impostors(internal, l)
  assert.equal(await direct('phantom', otherKey), 401, 'signed with another key under the real kid')
  assert.equal(await direct('phantom', forged), 401, 'forged')
  for (const mode of ['jwt', 'jwt-denylist']) {
    assert.equal(await direct(mode, internal), 401, `${mode} took an internal token`)
    assert.deepEqual(statuses(await acrossReplicas(`/orders/${mode}/me`, bearer(internal))), new Set([401]))
    assert.equal(await direct(mode, l.accessToken), 200, `${mode} still takes the access token`)
  }
})

test('phantom: /auth/exchange and the internal location answer 404 through the gateway', async () => {
  const l = await newLogin()
  for (const path of [
    '/auth/exchange',
    '/auth/exchange?x=1',
    '/auth/exchange/',
    '/auth/%65xchange',
    '/_phantom_exchange',
  ]) {
    const res = await fetch(`${cluster.url}${path}`, { headers: cookie(l) })
    assert.equal(res.status, 404, path)
    assert.equal(res.headers.get('x-phantom-authorization'), null, path)
  }
})

test('phantom: redis stopped, cached exchanges serve at most PHANTOM_CACHE_TTL_MS, then every request is 503; after redis is back it serves again', async () => {
  const l = await newLogin()
  await acrossReplicas('/orders/phantom/me', cookie(l))
  await cluster.redis.stop()
  const stopped = Date.now()
  try {
    await until(stopped + TTL_MS + EPSILON_MS)
    const seen = await gatewayStatuses('/orders/phantom/me', cookie(l))
    assert.deepEqual(seen, new Set([503]))
    const res = await fetch(`${cluster.url}/orders/phantom/me`, { headers: cookie(l) })
    assert.equal(res.status, 503)
    assert.equal(((await res.json()) as { statusCode: number }).statusCode, 503)
  } finally {
    await cluster.redis.start()
  }
  await cluster.waitUntilReady()
  const deadline = Date.now() + 10_000
  let last = new Set<number>()
  while (Date.now() < deadline) {
    last = statuses(await acrossReplicas('/orders/phantom/me', cookie(l)))
    if (last.size === 1 && last.has(200)) break
    await sleep(100)
  }
  assert.deepEqual(last, new Set([200]), 'serves again once redis is back (sessions survive a restart)')
})

test('phantom: auth stopped, cached exchanges serve at most PHANTOM_CACHE_TTL_MS, then every request is 503 (the gateway fails closed)', async () => {
  const l = await newLogin()
  await acrossReplicas('/orders/phantom/me', cookie(l))
  await cluster.auth.stop()
  const stopped = Date.now()
  try {
    await until(stopped + TTL_MS + EPSILON_MS)
    assert.deepEqual(await gatewayStatuses('/orders/phantom/me', cookie(l)), new Set([503]))
  } finally {
    await cluster.auth.start()
  }
  assert.deepEqual(statuses(await acrossReplicas('/orders/phantom/me', cookie(l))), new Set([200]))
})

test('phantom at PHANTOM_CACHE_TTL_MS=0: the gateway exchanges on every request, so a logout is refused at once on every replica', async () => {
  await cluster.auth.stop()
  await cluster.auth.start({ env: { PHANTOM_CACHE_TTL_MS: '0' } })
  try {
    const l = await newLogin()
    await acrossReplicas('/orders/phantom/me', cookie(l))
    await secondStart()
    const warm = await fetch(`${cluster.url}/orders/phantom/me`, { headers: cookie(l) })
    await warm.arrayBuffer()
    assert.equal(warm.status, 200)
    await logout(l)
    assert.deepEqual(statuses(await acrossReplicas('/orders/phantom/me', cookie(l))), new Set([401]))
  } finally {
    await cluster.auth.stop()
    await cluster.auth.start()
  }
})
