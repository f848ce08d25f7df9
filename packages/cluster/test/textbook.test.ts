import assert from 'node:assert/strict'
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import {
  type Cluster,
  PEER_SERVICES,
  peerSecrets,
  startCluster,
  TEXTBOOK,
  UNLIMITED_LOGINS_ENV,
} from '../src/index.ts'

/*
 * The textbook peer (services/textbook): the tutorial code, 2 replicas behind the real gateway, on the
 * cluster's real Redis and Postgres, and authlab's users. What it does, and what it does not: its
 * session ends at logout on every replica, its JWT does not, and a user's other sessions outlive it.
 */

const REPLICAS = 2
const TTL_S = 6
const PASSWORD = 'correct horse battery staple'
const json = { 'content-type': 'application/json' }
const [sessionProbe, jwtProbe] = TEXTBOOK.probes
// The cluster's key, made here so the test knows its public half (as any attacker does).
const secrets = peerSecrets()
const publicKey = createPublicKey(createPrivateKey(secrets.TEXTBOOK_JWT_PRIVATE_KEY!))
  .export({ type: 'spki', format: 'pem' })
  .toString()

let cluster: Cluster
before(async () => {
  cluster = await startCluster({
    replicas: REPLICAS,
    services: [],
    peers: PEER_SERVICES,
    port: 0,
    env: { ...UNLIMITED_LOGINS_ENV, ...secrets, ACCESS_TOKEN_TTL_S: String(TTL_S) },
  })
})
after(() => cluster?.close())

interface User {
  id: string
  email: string
}

async function newUser(): Promise<User> {
  const email = `tb${Date.now()}-${Math.random().toString(36).slice(2)}@example.test`
  const res = await fetch(`${cluster.url}/auth/register`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ email, password: PASSWORD }),
  })
  assert.equal(res.status, 201)
  return (await res.json()) as User
}

interface Login {
  /** `connect.sid=…`, as a Cookie header sends it */
  cookie: string
  token: string
}

async function login(user: User, headers: Record<string, string> = {}): Promise<Login> {
  const res = await fetch(`${cluster.url}${TEXTBOOK.login}`, {
    method: 'POST',
    headers: { ...json, ...headers },
    body: JSON.stringify({ email: user.email, password: PASSWORD }),
  })
  assert.equal(res.status, 200, await res.clone().text())
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith(`${TEXTBOOK.sessionCookie}=`))
  assert.ok(setCookie, 'a connect.sid cookie')
  assert.match(setCookie, /; HttpOnly/i)
  const { token } = (await res.json()) as { token: string }
  return { cookie: setCookie.split(';')[0]!, token }
}

async function logout(cookie: string): Promise<void> {
  const res = await fetch(`${cluster.url}${TEXTBOOK.logout}`, { method: 'POST', headers: { cookie } })
  assert.equal(res.status, 204)
}

const asCookie = (l: Login) => ({ cookie: l.cookie })
const asBearer = (token: string) => ({ authorization: `Bearer ${token}` })

/**
 * GETs `path` through the gateway until every replica has answered (bounded), asserting each answer's
 * status; resolves with the bodies by replica (x-replica).
 */
async function onEveryReplica(
  path: string,
  headers: Record<string, string>,
  status: number,
): Promise<Map<string, unknown>> {
  const seen = new Map<string, unknown>()
  for (let i = 0; i < 40 && seen.size < REPLICAS; i++) {
    const res = await fetch(`${cluster.url}${path}`, { headers })
    const body = await res.json()
    const replica = res.headers.get('x-replica')
    assert.equal(res.status, status, `${path} on ${replica}: ${JSON.stringify(body)}`)
    assert.ok(replica?.startsWith('textbook-'), `x-replica: ${replica}`)
    seen.set(replica!, body)
  }
  assert.equal(seen.size, REPLICAS, `${path}: every replica answered (saw ${[...seen.keys()]})`)
  return seen
}

/** A JWT made by hand: header and payload as given, signed by `signer` over `header.payload`. */
function jwt(header: object, payload: object, signer: (input: string) => string): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const input = `${enc(header)}.${enc(payload)}`
  return `${input}.${signer(input)}`
}
const es256 = (key: string | KeyObject) => (input: string) =>
  sign('sha256', Buffer.from(input), {
    key: typeof key === 'string' ? createPrivateKey(key) : key,
    dsaEncoding: 'ieee-p1363',
  }).toString('base64url')

test('the gateway routes /textbook/ to every textbook replica; readyz is answered on the replica, never through the gateway', async () => {
  await onEveryReplica(TEXTBOOK.healthz, {}, 200)
  assert.equal((await fetch(`${cluster.url}/textbook/readyz`)).status, 404)
  for (const r of cluster.peers.get('textbook')!) {
    const res = await fetch(`${r.url}/textbook/readyz`)
    assert.equal(res.status, 200, r.replica)
  }
})

test('login checks the password against authlab users (401 for a wrong one or an unknown email, no cookie)', async () => {
  const user = await newUser()
  for (const body of [
    { email: user.email, password: 'not the password' },
    { email: `nobody-${Date.now()}@example.test`, password: PASSWORD },
  ]) {
    const res = await fetch(`${cluster.url}${TEXTBOOK.login}`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify(body),
    })
    assert.equal(res.status, 401)
    assert.deepEqual(res.headers.getSetCookie(), [])
  }
  const bad = await fetch(`${cluster.url}${TEXTBOOK.login}`, { method: 'POST', headers: json, body: '{}' })
  assert.equal(bad.status, 400)
})

test("login gives a session cookie that answers on every replica (the sessions live in the shared Redis) and an ES256 JWT whose sub is the user's id", async () => {
  const user = await newUser()
  const l = await login(user)
  const [header, payload] = l.token
    .split('.')
    .slice(0, 2)
    .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()))
  assert.equal(header.alg, 'ES256')
  assert.equal(payload.sub, user.id)
  assert.equal(payload.exp - payload.iat, TTL_S, 'expiresIn is ACCESS_TOKEN_TTL_S')
  for (const [replica, body] of await onEveryReplica(sessionProbe.path, asCookie(l), 200))
    assert.deepEqual(body, { sub: user.id, replica })
  for (const [replica, body] of await onEveryReplica(jwtProbe.path, asBearer(l.token), 200))
    assert.deepEqual(body, { sub: user.id, replica })
  // No credential, no answer.
  await onEveryReplica(sessionProbe.path, {}, 401)
  await onEveryReplica(jwtProbe.path, {}, 401)
})

test('a forged, tampered, expired, HS256 (the public key as its secret) or alg=none token is refused with 401 on every replica', async () => {
  const user = await newUser()
  const { token } = await login(user)
  const now = Math.floor(Date.now() / 1000)
  const claims = { sub: user.id, iat: now, exp: now + 60 }
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
  const [h, , s] = token.split('.')
  const bad: Record<string, string> = {
    'signed by another key': jwt({ alg: 'ES256', typ: 'JWT' }, claims, es256(other)),
    'payload changed, signature kept': `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${s}`,
    expired: jwt(
      { alg: 'ES256', typ: 'JWT' },
      { sub: user.id, iat: now - 120, exp: now - 60 },
      es256(secrets.TEXTBOOK_JWT_PRIVATE_KEY!),
    ),
    'HS256 with the public key as secret': jwt({ alg: 'HS256', typ: 'JWT' }, claims, (input) =>
      createHmac('sha256', publicKey).update(input).digest('base64url'),
    ),
    'alg none': jwt({ alg: 'none', typ: 'JWT' }, claims, () => ''),
  }
  // The hand-made signer is right: the same claims signed with the cluster's key are accepted.
  const good = jwt({ alg: 'ES256', typ: 'JWT' }, claims, es256(secrets.TEXTBOOK_JWT_PRIVATE_KEY!))
  await onEveryReplica(jwtProbe.path, asBearer(good), 200)
  for (const [what, forged] of Object.entries(bad)) {
    await onEveryReplica(jwtProbe.path, asBearer(forged), 401).catch((err) => {
      throw new Error(`${what}: ${err.message}`)
    })
  }
})

test('login regenerates the session: a session id presented at login is replaced and no longer works (no fixation)', async () => {
  const user = await newUser()
  const first = await login(user)
  const second = await login(user, asCookie(first))
  assert.notEqual(second.cookie, first.cookie)
  await onEveryReplica(sessionProbe.path, asCookie(first), 401)
  await onEveryReplica(sessionProbe.path, asCookie(second), 200)
})

test('after logout the session is refused on every replica, while the JWT of that login still answers 200 on every replica until its exp (the tutorial cannot revoke it)', async () => {
  const user = await newUser()
  const l = await login(user)
  const { exp } = JSON.parse(Buffer.from(l.token.split('.')[1]!, 'base64url').toString())
  await logout(l.cookie)
  await onEveryReplica(sessionProbe.path, asCookie(l), 401)
  assert.ok(Date.now() < exp * 1000, 'still before exp')
  await onEveryReplica(jwtProbe.path, asBearer(l.token), 200)
  // Only its exp ends it (jsonwebtoken has no clock tolerance by default).
  await sleep(exp * 1000 - Date.now() + 1_000)
  await onEveryReplica(jwtProbe.path, asBearer(l.token), 401)
})

test("two logins of one user are two sessions: logging out one leaves the other working on every replica (no logout-all: nothing indexes a user's sessions)", async () => {
  const user = await newUser()
  const phone = await login(user)
  const laptop = await login(user)
  assert.notEqual(phone.cookie, laptop.cookie)
  await logout(phone.cookie)
  await onEveryReplica(sessionProbe.path, asCookie(phone), 401)
  for (const [replica, body] of await onEveryReplica(sessionProbe.path, asCookie(laptop), 200))
    assert.deepEqual(body, { sub: user.id, replica })
})

test("textbook's sessions are in Redis under textbook:sess:, written as its own ACL user, which can touch no other key", async () => {
  const user = await newUser()
  const l = await login(user)
  const admin = new Redis(cluster.redis.url, { lazyConnect: true })
  const own = new Redis(cluster.redis.urlFor('textbook'), { lazyConnect: true, enableReadyCheck: false })
  try {
    const sid = decodeURIComponent(l.cookie.split('=')[1]!).replace(/^s:/, '').split('.')[0]!
    const stored = JSON.parse((await admin.get(`textbook:sess:${sid}`)) ?? 'null')
    assert.equal(stored?.userId, user.id)
    assert.ok((await admin.ttl(`textbook:sess:${sid}`)) > 0, 'with a TTL')
    await assert.rejects(own.get('authlab:anything'), /NOPERM/)
    await assert.rejects(own.set('authlab:sess:forged', '{}'), /NOPERM/)
    await assert.rejects(own.scan(0), /NOPERM/)
  } finally {
    admin.disconnect()
    own.disconnect()
  }
})

test('the runner refuses peers on Sentinel or a Redis Cluster before starting anything: the tutorial code reads REDIS_URL only', async () => {
  for (const redisMode of ['sentinel', 'cluster'] as const)
    await assert.rejects(startCluster({ redisMode, peers: PEER_SERVICES }), /need a standalone Redis/)
})
