import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { InjectOptions } from 'fastify'
import {
  build,
  INTROSPECTION_CLIENT,
  PASSWORD,
  registerAndLogin,
  sharedStores,
  uniqueEmail,
} from './helper.ts'

const stores = sharedStores()

const login = (email: string, password = PASSWORD) => ({
  method: 'POST' as const,
  url: '/auth/login',
  payload: { email, password },
})

test('malformed JSON answers 400 with a clear code', async (t) => {
  const app = await build(t, stores())
  const res = await app.inject({
    method: 'POST',
    url: '/auth/login',
    headers: { 'content-type': 'application/json' },
    payload: '{"email": "a@b.c", "password":',
  })
  assert.equal(res.statusCode, 400)
  assert.equal(res.json().code, 'FST_ERR_CTP_INVALID_JSON_BODY')
})

test('a body that is not JSON answers 415', async (t) => {
  const app = await build(t, stores())
  const res = await app.inject({
    method: 'POST',
    url: '/auth/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'email=a@b.c&password=x',
  })
  assert.equal(res.statusCode, 415)
})

test('missing fields and a bad email answer 400', async (t) => {
  const app = await build(t, stores())
  for (const payload of [
    { email: 'a@b.c' },
    { password: PASSWORD },
    { email: 'not-an-email', password: PASSWORD },
  ]) {
    const res = await app.inject({ method: 'POST', url: '/auth/register', payload })
    assert.equal(res.statusCode, 400, JSON.stringify(payload))
    assert.equal(res.json().code, 'FST_ERR_VALIDATION')
  }
})

test('a too-short or too-long password answers 400 before any hashing', async (t) => {
  const app = await build(t, stores())
  for (const password of ['short', 'x'.repeat(257)]) {
    const res = await app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { email: uniqueEmail(), password },
    })
    assert.equal(res.statusCode, 400)
  }
})

test('a body over BODY_LIMIT_BYTES answers 413', async (t) => {
  const app = await build(t, stores())
  const res = await app.inject({
    method: 'POST',
    url: '/auth/register',
    payload: { email: uniqueEmail(), password: PASSWORD, padding: 'x'.repeat(20_000) },
  })
  assert.equal(res.statusCode, 413)
})

test('an unknown user gets 401 AUTHLAB_INVALID_CREDENTIALS', async (t) => {
  const app = await build(t, stores())
  const res = await app.inject(login(uniqueEmail()))
  assert.equal(res.statusCode, 401)
  assert.equal(res.json().code, 'AUTHLAB_INVALID_CREDENTIALS')
})

test('brute force on one account from one address answers 429 with Retry-After, even with the right password', async (t) => {
  const app = await build(t, stores(), { LOGIN_RATE_LIMIT_PER_ACCOUNT_IP: '3' })
  const { email } = await registerAndLogin(app)
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) statuses.push((await app.inject(login(email, 'wrong password!'))).statusCode)
  assert.deepEqual(statuses, [401, 401, 401, 429], 'only failures count, and 3 are allowed')
  const right = await app.inject(login(email))
  assert.equal(right.statusCode, 429)
  assert.ok(Number(right.headers['retry-after']) > 0)
  assert.equal(right.json().code, 'AUTHLAB_RATE_LIMITED')
})

test('past the per-account ceiling, addresses that failed on the account wait while a clean address (its owner) still logs in', async (t) => {
  const app = await build(t, stores(), {
    LOGIN_RATE_LIMIT_PER_ACCOUNT_IP: '2',
    LOGIN_RATE_LIMIT_PER_ACCOUNT: '6',
  })
  const { email } = await registerAndLogin(app)
  const from = (remoteAddress: string, password = 'wrong password!') =>
    app.inject({ ...login(email, password), remoteAddress }).then((r) => r.statusCode)
  const attacker = [await from('198.51.100.1'), await from('198.51.100.1'), await from('198.51.100.1')]
  assert.deepEqual(attacker, [401, 401, 429], 'the guessing address is stopped on this account')
  assert.equal(await from('203.0.113.9', PASSWORD), 200, 'the owner, elsewhere, still logs in')
  for (const ip of ['198.51.100.2', '198.51.100.3']) for (let i = 0; i < 2; i++) await from(ip)
  // 6 failures from three addresses: the ceiling.
  assert.equal(await from('198.51.100.2'), 429, 'an address that failed here waits out the window')
  assert.equal(await from('203.0.113.9', PASSWORD), 200, 'the owner is not locked out')
  assert.deepEqual(
    [await from('198.51.100.4'), await from('198.51.100.4')],
    [401, 429],
    'a fresh address gets one guess past the ceiling',
  )
})

test('parallel wrong passwords for one account from one address: at most the limit are judged, the rest 429', async (t) => {
  const app = await build(t, stores(), { LOGIN_RATE_LIMIT_PER_ACCOUNT_IP: '5' })
  const { email } = await registerAndLogin(app)
  const statuses = await Promise.all(
    Array.from({ length: 12 }, () => app.inject(login(email, 'wrong password!')).then((r) => r.statusCode)),
  )
  assert.equal(statuses.filter((s) => s === 401).length, 5, `judged: ${statuses}`)
  assert.equal(statuses.filter((s) => s === 429).length, 7)
})

test("a successful login clears its own address's failures on the account", async (t) => {
  const app = await build(t, stores(), { LOGIN_RATE_LIMIT_PER_ACCOUNT_IP: '2' })
  const { email } = await registerAndLogin(app)
  const statuses: number[] = []
  for (const password of ['wrong password!', PASSWORD, 'wrong password!', 'wrong password!', PASSWORD]) {
    statuses.push((await app.inject(login(email, password))).statusCode)
  }
  assert.deepEqual(statuses, [401, 200, 401, 401, 429])
})

test('IPv6 clients share one per-IP budget per /64', async (t) => {
  const app = await build(t, stores(), { LOGIN_RATE_LIMIT_PER_IP: '3' })
  const statuses: number[] = []
  for (const host of ['1', 'a:b:c:d', 'ffff', '1:2:3:4']) {
    const remoteAddress = host.includes(':') ? `2001:db8:7:9:${host}` : `2001:db8:7:9::${host}`
    statuses.push((await app.inject({ ...login(uniqueEmail()), remoteAddress })).statusCode)
  }
  assert.deepEqual(statuses, [401, 401, 401, 429])
  const otherPrefix = await app.inject({ ...login(uniqueEmail()), remoteAddress: '2001:db8:7:a::1' })
  assert.equal(otherPrefix.statusCode, 401)
})

test('many accounts from one IP hit the per-IP limit (429), shared through Redis by every replica', async (t) => {
  const a = await build(t, stores(), { LOGIN_RATE_LIMIT_PER_IP: '4' })
  const b = await build(t, stores(), { LOGIN_RATE_LIMIT_PER_IP: '4' })
  const remote = '203.0.113.7'
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) {
    const app = i % 2 ? a : b
    statuses.push((await app.inject({ ...login(uniqueEmail()), remoteAddress: remote })).statusCode)
  }
  assert.deepEqual(statuses, [401, 401, 401, 401, 429, 429])
})

test('credentials are not coerced and unknown properties are refused: 400, never a guess', async (t) => {
  const app = await build(t, stores())
  const { login: session } = await registerAndLogin(app)
  const numericToken = await app.inject({
    method: 'POST',
    url: '/auth/introspect',
    headers: { authorization: INTROSPECTION_CLIENT },
    payload: { token: 123 },
  })
  assert.equal(numericToken.statusCode, 400, 'not active:false for the string "123"')
  const extra = await app.inject({
    ...login(uniqueEmail()),
    payload: { email: uniqueEmail(), password: PASSWORD, admin: true },
  })
  assert.equal(extra.statusCode, 400)
  const numericRefresh = await app.inject({
    method: 'POST',
    url: '/auth/refresh',
    payload: { refreshToken: 1 },
  })
  assert.equal(numericRefresh.statusCode, 400)
  assert.ok(session.accessToken)
})

test('logout with content-type: application/json and an empty body is accepted (many clients send that)', async (t) => {
  const app = await build(t, stores())
  const { login: session } = await registerAndLogin(app)
  const res = await app.inject({
    method: 'POST',
    url: '/auth/logout',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${session.accessToken}` },
    payload: '',
  })
  assert.equal(res.statusCode, 204, res.body)
  const malformed = await app.inject({
    method: 'POST',
    url: '/auth/logout',
    headers: { 'content-type': 'application/json' },
    payload: '{"refreshToken":',
  })
  assert.equal(malformed.statusCode, 400, 'a body that is there must still be JSON')
})

test('a known path with the wrong method answers 405 with Allow; an unknown path 404', async (t) => {
  const app = await build(t, stores())
  const wrong = await app.inject({ method: 'GET', url: '/auth/login' })
  assert.equal(wrong.statusCode, 405)
  assert.equal(wrong.headers.allow, 'POST')
  assert.equal(wrong.json().code, 'AUTHLAB_METHOD_NOT_ALLOWED')
  const jwks = await app.inject({ method: 'DELETE', url: '/.well-known/jwks.json' })
  assert.equal(jwks.statusCode, 405)
  assert.equal(jwks.headers.allow, 'GET, HEAD')
  // What an OpenAPI fuzzer found: QUERY (a method with a body, so Content-Type checked first) was a 400.
  const query = await app.inject({ method: 'QUERY' as 'GET', url: '/.well-known/jwks.json' })
  assert.equal(query.statusCode, 405)
  assert.equal(query.headers.allow, 'GET, HEAD')
  assert.equal((await app.inject({ method: 'GET', url: '/auth/nowhere' })).statusCode, 404)
})

test('every route answers each method it does not declare 405, with Allow listing exactly the ones it does', async (t) => {
  // Swagger UI's routes too, its wildcard included.
  const app = await build(t, stores(), { API_DOCS: 'true' })
  const routes = app.declaredRoutes()
  for (const url of [
    '/.well-known/jwks.json',
    '/auth/login',
    '/auth/introspect',
    '/auth/metrics',
    '/auth/docs/static/*',
  ]) {
    assert.ok(routes.has(url), `${url} is declared`)
  }
  assert.deepEqual(routes.get('/.well-known/jwks.json'), ['GET', 'HEAD'])
  // PROPFIND: a method Node parses that Fastify routes nowhere. QUERY: routable, with a body.
  const methods = [...app.supportedMethods, 'PROPFIND']
  let checked = 0
  for (const [url, declared] of routes) {
    const path = url.replaceAll(/:[^/]+/g, 'x').replaceAll('*', 'x')
    for (const method of methods.filter((m) => !declared.includes(m))) {
      const res = await app.inject({ method: method as 'GET', url: path })
      assert.equal(res.statusCode, 405, `${method} ${url}`)
      assert.equal(res.headers.allow, declared.join(', '), `${method} ${url}`)
      checked++
    }
  }
  assert.ok(checked > 100, `${checked} cases`)
  for (const method of ['GET', 'POST', 'QUERY', 'PROPFIND']) {
    const res = await app.inject({ method: method as 'GET', url: '/auth/nowhere' })
    assert.equal(res.statusCode, 404, method)
    assert.equal(res.json().code, 'AUTHLAB_NOT_FOUND', method)
    assert.equal(res.headers.allow, undefined, method)
  }
})

test('Swagger UI is off by default and served with API_DOCS=true (the native runner sets it)', async (t) => {
  const plain = await build(t, stores())
  assert.equal((await plain.inject('/auth/docs')).statusCode, 404)
  const dev = await build(t, stores(), { API_DOCS: 'true' })
  const page = await dev.inject('/auth/docs')
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /swagger-ui/i)
  const doc = await dev.inject('/auth/docs/json')
  assert.equal(doc.json().info.title, 'authlab auth service')
})

test("every auth error body carries the shared ErrorBody shape, requestId included (the gateway's X-Request-Id when it sent one)", async (t) => {
  // A 429 from the (account, address) limit: the per-address counters are shared by the file's tests.
  const app = await build(t, stores(), { LOGIN_RATE_LIMIT_PER_ACCOUNT_IP: '1' })
  const { email } = await registerAndLogin(app)
  assert.equal((await app.inject(login(email, 'wrong password!'))).statusCode, 401)
  const json = { 'content-type': 'application/json' }
  const cases: [number, InjectOptions][] = [
    [400, { method: 'POST', url: '/auth/login', headers: json, payload: '{"email":' }],
    [401, login(uniqueEmail())],
    [404, { method: 'GET', url: '/auth/nowhere' }],
    [405, { method: 'PUT', url: '/auth/login' }],
    [409, { method: 'POST', url: '/auth/register', payload: { email, password: PASSWORD } }],
    [413, { ...login(email), payload: { email, password: PASSWORD, padding: 'x'.repeat(20_000) } }],
    [
      415,
      {
        method: 'POST',
        url: '/auth/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'email=a@b.c&password=x',
      },
    ],
    [429, login(email, 'wrong password!')],
    [401, { method: 'POST', url: '/auth/introspect', payload: { token: 'x' } }],
  ]
  for (const [status, request] of cases) {
    const res = await app.inject({
      ...request,
      headers: { ...request.headers, 'x-request-id': `request-id-${status}` },
    })
    assert.equal(res.statusCode, status, String(request.url))
    const body = res.json()
    assert.deepEqual(
      Object.keys(body).sort(),
      ['code', 'error', 'message', 'requestId', 'statusCode'],
      `${status}`,
    )
    assert.equal(body.requestId, `request-id-${status}`, `${status}`)
  }
})
