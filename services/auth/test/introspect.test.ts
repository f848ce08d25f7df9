import assert from 'node:assert/strict'
import { test } from 'node:test'
import { basicAuthorization } from '@authlab/contract'
import { loadAuthConfig } from '../src/config.ts'
import { build, INTROSPECTION_CLIENT, introspect, registerAndLogin, sharedStores } from './helper.ts'

const stores = sharedStores()

const form = (token: string) => new URLSearchParams({ token }).toString()
const call = (
  authorization: string | undefined,
  payload: string,
  type = 'application/x-www-form-urlencoded',
) => ({
  method: 'POST' as const,
  url: '/auth/introspect',
  headers: { 'content-type': type, ...(authorization ? { authorization } : {}) },
  payload,
})

test('introspect without valid client credentials answers 401 with WWW-Authenticate: Basic (RFC 7662 §2.1)', async (t) => {
  const app = await build(t, stores())
  const { login } = await registerAndLogin(app)
  const refused = [
    undefined,
    `Bearer ${login.accessToken}`,
    basicAuthorization('authlab-downstream', 'not-the-secret-at-all'),
    basicAuthorization('unknown-client', 'dev-only-introspection-secret-change-me'),
    'Basic !!!not-base64',
    `Basic ${Buffer.from('no-colon-here').toString('base64')}`,
  ]
  for (const authorization of refused) {
    const res = await app.inject(call(authorization, form(login.accessToken)))
    assert.equal(res.statusCode, 401, String(authorization))
    assert.match(String(res.headers['www-authenticate']), /^Basic realm="authlab-introspection"/)
    assert.equal(res.json().code, 'AUTHLAB_INTROSPECTION_CLIENT_UNAUTHENTICATED')
    assert.equal(res.json().active, undefined, 'nothing about the token leaks')
  }
})

test('an authenticated client introspects with a form-urlencoded body (RFC 7662) or JSON', async (t) => {
  const app = await build(t, stores())
  const { login, userId } = await registerAndLogin(app)
  const asForm = await app.inject(call(INTROSPECTION_CLIENT, form(login.accessToken)))
  assert.equal(asForm.statusCode, 200)
  assert.equal(asForm.json().active, true)
  assert.equal(asForm.json().sub, userId)
  const asJson = await app.inject(
    call(INTROSPECTION_CLIENT, JSON.stringify({ token: login.sessionId }), 'application/json'),
  )
  assert.equal(asJson.json().active, true)
  assert.equal((await app.inject(call(INTROSPECTION_CLIENT, 'token='))).statusCode, 400)
})

test('each introspection client has its own rate limit', async (t) => {
  const app = await build(t, stores(), {
    INTROSPECTION_CLIENTS: 'orders:orders-secret-0123456789,profile:profile-secret-0123456789',
    INTROSPECTION_RATE_LIMIT_PER_CLIENT: '2',
  })
  const { login } = await registerAndLogin(app)
  const orders = basicAuthorization('orders', 'orders-secret-0123456789')
  const profile = basicAuthorization('profile', 'profile-secret-0123456789')
  const statuses: number[] = []
  for (let i = 0; i < 3; i++)
    statuses.push((await app.inject(call(orders, form(login.accessToken)))).statusCode)
  assert.deepEqual(statuses, [200, 200, 429])
  assert.equal((await app.inject(call(profile, form(login.accessToken)))).statusCode, 200)
  assert.equal(
    (await introspect(app, login.accessToken)).statusCode,
    401,
    'the dev client is not configured here',
  )
})

test('INTROSPECTION_CLIENTS refuses a malformed list or a secret under 16 characters at start', () => {
  for (const list of ['orders', 'orders:short', 'orders:long-enough-secret-1,', 'a b:long-enough-secret-1']) {
    assert.throws(() => loadAuthConfig({ INTROSPECTION_CLIENTS: list }), /INTROSPECTION_CLIENTS/, list)
  }
})

const hinted = (token: string, hint: string, extra: Record<string, string> = {}) =>
  new URLSearchParams({ token, token_type_hint: hint, ...extra }).toString()

test('token_type_hint is accepted and only a hint: a right, wrong or unknown hint gets the right active answer (RFC 7662 §2.1)', async (t) => {
  const app = await build(t, stores())
  const { login, userId } = await registerAndLogin(app)
  const cases: [token: string, hint: string, active: boolean][] = [
    [login.accessToken, 'access_token', true],
    [login.accessToken, 'refresh_token', true],
    [login.accessToken, 'urn:example:no-such-type', true],
    [login.sessionId, 'access_token', true],
    [login.sessionId, 'refresh_token', true],
    [login.sessionId, 'session', true],
    [`${login.accessToken}x`, 'access_token', false],
    [login.sessionId.replace(/.$/, (c: string) => (c === 'A' ? 'B' : 'A')), 'access_token', false],
  ]
  for (const [token, hint, active] of cases) {
    const res = await app.inject(call(INTROSPECTION_CLIENT, hinted(token, hint)))
    assert.equal(res.statusCode, 200, `${hint}: ${res.body}`)
    assert.equal(res.json().active, active, `${token.slice(0, 12)}… hinted ${hint}`)
    if (active) assert.equal(res.json().sub, userId)
  }
  // Refresh tokens are for /auth/refresh only: introspection never reports one active, hinted or not,
  // so no downstream service can take a refresh token for a bearer credential.
  for (const payload of [hinted(login.refreshToken, 'refresh_token'), form(login.refreshToken)]) {
    const res = await app.inject(call(INTROSPECTION_CLIENT, payload))
    assert.equal(res.statusCode, 200)
    assert.deepEqual(res.json(), { active: false })
  }
  const asJson = await app.inject(
    call(
      INTROSPECTION_CLIENT,
      JSON.stringify({ token: login.accessToken, token_type_hint: 'refresh_token' }),
      'application/json',
    ),
  )
  assert.equal(asJson.json().active, true)
})

test('introspection ignores parameters it does not know instead of answering 400, and still refuses a missing, empty or oversized token', async (t) => {
  const app = await build(t, stores())
  const { login } = await registerAndLogin(app)
  const extra = { resource: 'https://orders.example', client_id: 'orders', x_trace: 'abc' }
  const asForm = await app.inject(
    call(INTROSPECTION_CLIENT, hinted(login.accessToken, 'access_token', extra)),
  )
  assert.equal(asForm.statusCode, 200, asForm.body)
  assert.equal(asForm.json().active, true)
  const session = await app.inject(
    call(INTROSPECTION_CLIENT, new URLSearchParams({ token: login.sessionId, unknown: '1' }).toString()),
  )
  assert.equal(session.json().active, true)
  const asJson = await app.inject(
    call(
      INTROSPECTION_CLIENT,
      JSON.stringify({ token: login.accessToken, resource: ['a', 'b'], nested: { x: 1 } }),
      'application/json',
    ),
  )
  assert.equal(asJson.statusCode, 200, asJson.body)
  assert.equal(asJson.json().active, true)
  for (const payload of [
    'token_type_hint=access_token&resource=x',
    'token=&token_type_hint=access_token',
    new URLSearchParams({ token: 'x'.repeat(8193), token_type_hint: 'access_token' }).toString(),
    new URLSearchParams({ token: login.accessToken, token_type_hint: 'h'.repeat(257) }).toString(),
    `${form(login.accessToken)}&${form(login.sessionId)}`,
  ]) {
    const res = await app.inject(call(INTROSPECTION_CLIENT, payload))
    assert.equal(res.statusCode, 400, payload.slice(0, 60))
  }
  const tooBig = await app.inject(
    call(INTROSPECTION_CLIENT, `${form(login.accessToken)}&pad=${'p'.repeat(20_000)}`),
  )
  assert.equal(tooBig.statusCode, 413)
})

/**
 * Three clients and a small failure budget. Failure counts live in Redis, shared by every test of
 * this file for a minute, so each test takes its own client ids (`tag`) and addresses.
 */
function throttledClients(tag: string) {
  const names = ['orders', 'profile', 'billing'].map((name) => `${name}-${tag}`)
  const secret = (name: string) => `${name}-secret-0123456789`
  const [orders, profile, billing] = names.map((name) => basicAuthorization(name, secret(name))) as [
    string,
    string,
    string,
  ]
  return {
    env: {
      INTROSPECTION_CLIENTS: names.map((name) => `${name}:${secret(name)}`).join(','),
      INTROSPECTION_AUTH_FAILURES_PER_CLIENT: '3',
      INTROSPECTION_AUTH_FAILURES_PER_IP: '5',
    },
    orders,
    profile,
    billing,
    wrong: (name: 'orders' | 'profile' | 'billing' | 'nobody', n = 0) =>
      basicAuthorization(`${name}-${tag}`, `wrong-secret-guess-${n}-0123456789`),
  }
}

test('repeated wrong secrets for one client id from one address get 429 with Retry-After after the limit, even with the right secret then, while another client id still works', async (t) => {
  const { env, orders, profile, wrong } = throttledClients('limit')
  const app = await build(t, stores(), env)
  const { login } = await registerAndLogin(app)
  const from = (authorization: string, remoteAddress = '10.77.0.1') =>
    app.inject({ ...call(authorization, form(login.accessToken)), remoteAddress })
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) statuses.push((await from(wrong('orders', i))).statusCode)
  assert.deepEqual(statuses, [401, 401, 401, 429])
  const limited = await from(orders)
  assert.equal(limited.statusCode, 429, 'the right secret past the limit is refused too: no oracle')
  const retryAfter = Number(limited.headers['retry-after'])
  assert.ok(retryAfter >= 1 && retryAfter <= 60, String(limited.headers['retry-after']))
  assert.equal(limited.json().code, 'AUTHLAB_RATE_LIMITED')
  assert.equal(limited.json().active, undefined, 'nothing about the token leaks')
  assert.deepEqual(Object.keys(limited.json()).sort(), [
    'code',
    'error',
    'message',
    'requestId',
    'statusCode',
  ])
  const other = await from(profile)
  assert.equal(other.statusCode, 200, 'another client id from the same address is not throttled')
  assert.equal(other.json().active, true)
  const elsewhere = await from(orders, '10.77.0.2')
  assert.equal(elsewhere.statusCode, 200, "others' failures do not lock the client out elsewhere")
})

test('parallel wrong secrets cannot outrun the failure limit: exactly the budget is judged', async (t) => {
  const { env, orders, wrong } = throttledClients('parallel')
  const app = await build(t, stores(), env)
  const { login } = await registerAndLogin(app)
  const remoteAddress = '10.77.1.1'
  const statuses = await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      app.inject({ ...call(wrong('orders', i), form(login.accessToken)), remoteAddress }),
    ),
  ).then((all) => all.map((r) => r.statusCode).sort())
  assert.deepEqual(statuses, [...Array(3).fill(401), ...Array(9).fill(429)])
  const right = await app.inject({ ...call(orders, form(login.accessToken)), remoteAddress })
  assert.equal(right.statusCode, 429)
})

test('an address failing across client ids hits its own limit on every id it failed on; an id it never failed on is still judged', async (t) => {
  const { env, orders, profile, billing, wrong } = throttledClients('address')
  const app = await build(t, stores(), env)
  const { login } = await registerAndLogin(app)
  const from = (authorization: string | undefined, remoteAddress = '10.77.2.1') =>
    app.inject({ ...call(authorization, form(login.accessToken)), remoteAddress }).then((r) => r.statusCode)
  const statuses: number[] = []
  // Five failures spread so no client id reaches its own limit of 3: two, two, and one unknown id.
  for (const authorization of [
    wrong('orders', 1),
    wrong('profile', 1),
    wrong('orders', 2),
    wrong('profile', 2),
    wrong('nobody'),
  ]) {
    statuses.push(await from(authorization))
  }
  assert.deepEqual(statuses, [401, 401, 401, 401, 401])
  assert.equal(await from(orders), 429, 'orders failed from here: refused, right secret or not')
  assert.equal(await from(profile), 429)
  assert.equal(
    await from(basicAuthorization('someone-else', 'x'.repeat(20))),
    429,
    'unknown ids share one count',
  )
  assert.equal(await from(undefined), 429, 'so do requests without credentials')
  assert.equal(await from(billing), 200, 'billing never failed from here')
  assert.equal(await from(orders, '10.77.2.2'), 200, 'other addresses are not affected')
})

test("past a client id's failure limit an address that failed on it waits, while one that has not is judged once", async (t) => {
  const { env, billing, wrong } = throttledClients('ceiling')
  const app = await build(t, stores(), env)
  const { login } = await registerAndLogin(app)
  const from = (authorization: string, remoteAddress: string) =>
    app.inject({ ...call(authorization, form(login.accessToken)), remoteAddress }).then((r) => r.statusCode)
  for (let host = 1; host <= 4; host++) assert.equal(await from(wrong('billing'), `10.77.3.${host}`), 401)
  // billing has failed 4 times (limit 3): an address that failed on it is refused, even when right.
  assert.equal(await from(billing, '10.77.3.1'), 429)
  // A fresh address is judged: the client itself still authenticates …
  assert.equal(await from(billing, '10.77.3.5'), 200)
  // … and a guesser gets one answer there, then waits like the others.
  assert.equal(await from(wrong('billing'), '10.77.3.6'), 401)
  assert.equal(await from(wrong('billing'), '10.77.3.6'), 429)
  assert.equal(await from(billing, '10.77.3.6'), 429)
})

test('INTROSPECTION_AUTH_FAILURES_PER_CLIENT and _PER_IP are positive integers', () => {
  for (const name of ['INTROSPECTION_AUTH_FAILURES_PER_CLIENT', 'INTROSPECTION_AUTH_FAILURES_PER_IP']) {
    for (const value of ['0', '-1', 'many']) {
      assert.throws(() => loadAuthConfig({ [name]: value }), new RegExp(name), `${name}=${value}`)
    }
  }
  const config = loadAuthConfig({})
  assert.equal(config.INTROSPECTION_AUTH_FAILURES_PER_CLIENT, 10)
  assert.equal(config.INTROSPECTION_AUTH_FAILURES_PER_IP, 20)
})
