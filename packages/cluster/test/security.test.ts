import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { basicAuthorization, DEV_INTROSPECTION_CLIENT } from '@authlab/contract'
import { Redis } from 'ioredis'
import { type Cluster, startCluster } from '../src/index.ts'

// The defaults a deployment gets, through the real gateway: no test-sized limits here. Only key
// rotation runs on a test-sized schedule (a key every 3 s, published 1 s before it signs).
let cluster: Cluster
before(async () => {
  cluster = await startCluster({
    replicas: 2,
    port: 0,
    env: {
      KEY_ROTATION_INTERVAL_S: '3',
      JWT_KEY_PUBLISH_DELAY_S: '1',
      KEY_RELOAD_INTERVAL_MS: '200',
      JWKS_REFRESH_MS: '250',
      // Client errors are logged at info: the request-id test follows one into a replica's log.
      LOG_LEVEL: 'info',
    },
  })
})
after(() => cluster?.close())

const json = { 'content-type': 'application/json' }

test("one request id from nginx to the replica: the gateway's X-Request-Id is in the answer, the error body and the replica's log line with the reason", async () => {
  const res = await fetch(`${cluster.url}/orders/jwt/me`, {
    headers: { authorization: 'Bearer not.a.token' },
  })
  assert.equal(res.status, 401)
  const id = res.headers.get('x-request-id')
  assert.match(id ?? '', /^[0-9a-f]{32}$/, "nginx's $request_id reaches the client")
  const body = (await res.json()) as { requestId: string; error: string; code: string }
  assert.equal(body.requestId, id, 'the replica used the id nginx gave it')
  assert.equal(body.error, 'Unauthorized')
  const replica = res.headers.get('x-replica')!
  const file = join(cluster.logDir, `${replica}.log`)
  const deadline = Date.now() + 5000
  let line: Record<string, unknown> | undefined
  while (!line && Date.now() < deadline) {
    line = (await readFile(file, 'utf8'))
      .split('\n')
      .filter((l) => l.includes(id!))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'invalid token')
    if (!line) await new Promise((r) => setTimeout(r, 100))
  }
  assert.ok(line, `${replica}'s log has the 401 under request id ${id}`)
  assert.equal(line.requestId, id)
  assert.equal(line.code, body.code)
  assert.ok(typeof line.cause === 'string' && line.cause.length > 0, 'the log says why; the client does not')
})
let n = 0

test('the gateway does not route introspection, readiness, metrics, OpenAPI or Swagger UI; the services still serve them', async () => {
  const internal = [
    ['POST', '/auth/introspect'],
    ['GET', '/auth/readyz'],
    ['GET', '/auth/metrics'],
    ['GET', '/auth/openapi.json'],
    ['GET', '/auth/docs'],
    ['GET', '/auth/docs/static/index.html'],
    ['GET', '/orders/openapi.json'],
    ['GET', '/orders/readyz'],
    ['GET', '/orders/metrics'],
    ['GET', '/profile/readyz'],
    ['GET', '/profile/metrics'],
  ] as const
  for (const [method, path] of internal) {
    const res = await fetch(`${cluster.url}${path}`, { method })
    assert.equal(res.status, 404, `${method} ${path} through the gateway`)
    await res.body?.cancel()
  }
  assert.equal((await fetch(`${cluster.auth.url}/auth/readyz`)).status, 200, 'auth serves readyz itself')
  const replica = cluster.replica('orders', 0)
  assert.equal((await fetch(`${replica.url}/orders/metrics`)).status, 200, 'a replica serves its metrics')
  assert.equal((await fetch(`${cluster.auth.url}/auth/metrics`)).status, 200, 'auth serves its metrics')
  const docs = await fetch(`${cluster.auth.url}/auth/docs/static/index.html`)
  assert.equal(docs.status, 200, 'auth serves Swagger UI on its own port (development)')
  assert.match(await docs.text(), /swagger-ui/i)
  const direct = await fetch(`${cluster.auth.url}/auth/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'token=x',
  })
  assert.equal(direct.status, 401, 'and auth answers introspection only to authenticated clients')
  const asClient = await fetch(`${cluster.auth.url}/auth/introspect`, {
    method: 'POST',
    headers: {
      authorization: basicAuthorization(DEV_INTROSPECTION_CLIENT.id, DEV_INTROSPECTION_CLIENT.secret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'token=x',
  })
  assert.deepEqual(await asClient.json(), { active: false })
})

test('scheduled key rotation under steady requests: no valid token is refused on any replica, old or new key', async () => {
  const email = `rotation-${++n}@example.test`
  const body = JSON.stringify({ email, password: 'correct horse battery staple' })
  assert.equal(
    (await fetch(`${cluster.url}/auth/register`, { method: 'POST', headers: json, body })).status,
    201,
  )
  const login = await fetch(`${cluster.url}/auth/login`, { method: 'POST', headers: json, body })
  const first = (await login.json()) as { accessToken: string; refreshToken: string }
  const kidOf = (token: string) =>
    JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()).kid
  let current = first
  const kids = new Set<string>()
  const refused: string[] = []
  let requests = 0
  const deadline = Date.now() + 8000
  while (Date.now() < deadline) {
    const res = await fetch(`${cluster.url}/auth/refresh`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ refreshToken: current.refreshToken }),
    })
    assert.equal(res.status, 200)
    current = (await res.json()) as typeof current
    kids.add(kidOf(current.accessToken))
    for (const token of [current.accessToken, first.accessToken]) {
      for (const path of [
        '/orders/jwt/me',
        '/profile/jwt-denylist/me',
        '/orders/jwt-pushed/me',
        '/profile/introspect/me',
      ]) {
        const r = await fetch(`${cluster.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
        await r.body?.cancel()
        requests++
        if (r.status !== 200) refused.push(`${path} ${r.status} kid ${kidOf(token)}`)
      }
    }
  }
  assert.ok(kids.size >= 2, `tokens were signed by ${kids.size} key(s)`)
  assert.deepEqual(refused, [], `${refused.length} of ${requests} refused`)
})

test('a client rotating X-Forwarded-For gets no fresh budget: 50 wrong logins on 50 accounts meet 429 long before 50', async () => {
  const statuses: number[] = []
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${cluster.url}/auth/login`, {
      method: 'POST',
      headers: { ...json, 'x-forwarded-for': `198.51.100.${i + 1}` },
      body: JSON.stringify({ email: `victim${i}-${++n}@example.test`, password: 'not the password' }),
    })
    statuses.push(res.status)
    await res.body?.cancel()
  }
  const first429 = statuses.indexOf(429)
  assert.ok(first429 >= 0 && first429 < 25, `first 429 at attempt ${first429 + 1}: ${statuses.join(',')}`)
  assert.ok(
    statuses.slice(0, first429).every((s) => s === 401),
    'every attempt before it was a plain 401',
  )
})

test('gateway answers carry security headers and no nginx version', async () => {
  for (const path of ['/.well-known/jwks.json', '/orders/jwt/me', '/nowhere']) {
    const res = await fetch(`${cluster.url}${path}`)
    await res.body?.cancel()
    assert.equal(res.headers.get('server'), 'nginx', path)
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path)
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path)
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/, path)
  }
})

test("Redis ACLs: a downstream replica's user cannot write a session or publish a revocation; auth's cannot flush", async () => {
  const downstream = new Redis(cluster.redis.urlFor('downstream'), { maxRetriesPerRequest: 1 })
  const auth = new Redis(cluster.redis.urlFor('auth'), { maxRetriesPerRequest: 1 })
  try {
    await assert.rejects(downstream.set('authlab:sess:forged', '{"userId":"x"}'), /NOPERM/)
    await assert.rejects(downstream.del('authlab:{revocations}:deny:jti:x'), /NOPERM/)
    await assert.rejects(downstream.spublish('authlab:{revocations}:feed', '{}'), /NOPERM/)
    await assert.rejects(downstream.get('not-ours'), /NOPERM/)
    assert.equal(await downstream.getex('authlab:sess:missing', 'PX', 1000), null, 'it may read and slide')
    await assert.rejects(auth.flushall(), /NOPERM/)
    await assert.rejects(auth.set('not-ours', '1'), /NOPERM/)
    const anonymous = new Redis(`redis://127.0.0.1:${cluster.redis.port}`, {
      maxRetriesPerRequest: 1,
      enableReadyCheck: false,
    })
    try {
      await assert.rejects(
        anonymous.get('authlab:{revocations}:ready'),
        /NOAUTH/,
        'nothing without a password',
      )
    } finally {
      anonymous.disconnect()
    }
  } finally {
    downstream.disconnect()
    auth.disconnect()
  }
})
