import assert from 'node:assert/strict'
import { after, before, type TestContext, test } from 'node:test'
import { cookieNames, MODES } from '@authlab/contract'
import { type RedisServer, seriesValue, startRedis } from '@authlab/servers'
import { unknownVariables } from '@authlab/service-kit'
import { buildDownstreamApp, DownstreamConfigSchema, loadDownstreamConfig } from '../src/index.ts'

let redis: RedisServer
before(async () => {
  redis = await startRedis()
})
after(() => redis?.close())

async function build(t: TestContext, env: NodeJS.ProcessEnv = {}) {
  // No auth is running: the JWT modes answer 503 until keys arrive, which these tests do not need.
  const config = loadDownstreamConfig({
    REDIS_URL: redis.url,
    AUTH_URL: 'http://127.0.0.1:9',
    REPLICA_ID: 'orders-7',
    LOG_LEVEL: 'silent',
    ...env,
  })
  const app = await buildDownstreamApp('orders', config)
  t.after(() => app.close())
  await app.ready()
  return app
}

test('answers name their replica (x-replica and the body) by default: the demo shows the balancing', async (t) => {
  const app = await build(t)
  const res = await app.inject('/orders/none/me')
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['x-replica'], 'orders-7')
  assert.equal(res.json().replica, 'orders-7')
})

test('EXPOSE_REPLICA=false keeps the replica out of every answer', async (t) => {
  const app = await build(t, { EXPOSE_REPLICA: 'false' })
  for (const url of ['/orders/none/me', '/orders/healthz', '/orders/jwt/me']) {
    const res = await app.inject(url)
    assert.equal(res.headers['x-replica'], undefined, url)
    assert.doesNotMatch(res.body, /orders-7/, url)
  }
})

test('openapi.json describes every mode route with its credential scheme and the shared error body', async (t) => {
  const app = await build(t)
  const res = await app.inject('/orders/openapi.json')
  assert.equal(res.statusCode, 200)
  const doc = res.json()
  assert.equal(doc.openapi.startsWith('3.'), true)
  for (const mode of MODES) {
    const op = doc.paths[`/orders/${mode}/me`]?.get
    assert.ok(op, `${mode} is described`)
    if (mode !== 'none') {
      assert.equal(op.security.length, 1, mode)
      assert.ok(op.responses['401'], `${mode} documents 401`)
    }
  }
  assert.deepEqual(doc.paths['/orders/session/me'].get.security, [{ session: [] }])
  assert.deepEqual(doc.paths['/orders/jwt/me'].get.security, [{ bearer: [] }])
  assert.ok(doc.components.schemas.ErrorBody.properties.requestId)
  assert.equal(doc.paths['/orders/openapi.json'], undefined, 'the document does not list itself')
})

test("the session cookie OpenAPI names is the contract's, __Host- prefixed with COOKIE_SECURE", async (t) => {
  for (const secure of [false, true]) {
    const app = await build(t, { COOKIE_SECURE: String(secure) })
    const doc = (await app.inject('/orders/openapi.json')).json()
    assert.equal(doc.components.securitySchemes.session.name, cookieNames(secure).session)
  }
  assert.equal(cookieNames(true).session, '__Host-sid')
})

test('every route answers each method it does not declare 405 with Allow; an unknown path 404', async (t) => {
  const app = await build(t)
  const routes = app.declaredRoutes()
  for (const mode of MODES) assert.deepEqual(routes.get(`/orders/${mode}/me`), ['GET', 'HEAD'], mode)
  for (const url of ['/orders/healthz', '/orders/readyz', '/orders/metrics', '/orders/openapi.json']) {
    assert.deepEqual(routes.get(url), ['GET', 'HEAD'], url)
  }
  // PROPFIND: a method Node parses that Fastify routes nowhere. QUERY: routable, with a body.
  const methods = [...app.supportedMethods, 'PROPFIND']
  let checked = 0
  for (const [url, declared] of routes) {
    for (const method of methods.filter((m) => !declared.includes(m))) {
      // With a session cookie and no CSRF header: the 405 comes before any authentication.
      const res = await app.inject({ method: method as 'GET', url, headers: { cookie: 'sid=x' } })
      assert.equal(res.statusCode, 405, `${method} ${url}`)
      assert.equal(res.headers.allow, declared.join(', '), `${method} ${url}`)
      if (method !== 'HEAD') assert.equal(res.json().code, 'AUTHLAB_METHOD_NOT_ALLOWED')
      checked++
    }
  }
  assert.ok(checked >= 80, `${checked} cases`)
  for (const method of ['GET', 'POST', 'QUERY', 'PROPFIND']) {
    const res = await app.inject({ method: method as 'GET', url: '/orders/nowhere' })
    assert.equal(res.statusCode, 404, method)
    assert.equal(res.headers.allow, undefined, method)
    assert.equal(res.json().code, 'AUTHLAB_NOT_FOUND', method)
    assert.match(res.json().requestId, /./, 'the shared error body')
  }
})

test('a misspelt variable of the downstream schema is named at start; PATH and HOME are not', () => {
  assert.deepEqual(
    unknownVariables(DownstreamConfigSchema, {
      SESSION_CACHE_TTL_MS: '2000',
      SESION_CACHE_TTL_MS: '500',
      SESSION_CACHE_TTL: '500',
      PATH: '/usr/bin',
      HOME: '/root',
    }),
    [
      { name: 'SESION_CACHE_TTL_MS', suggestion: 'SESSION_CACHE_TTL_MS' },
      // Three edits away, but SESSION_ is a prefix of the schema's names.
      { name: 'SESSION_CACHE_TTL' },
    ],
  )
})

test('a refused credential answers the shared error body with the request id the gateway sent', async (t) => {
  const app = await build(t)
  const res = await app.inject({
    url: '/orders/session/me',
    headers: { 'x-request-id': 'gateway-0123456789' },
  })
  assert.equal(res.statusCode, 401)
  const body = res.json()
  assert.equal(body.requestId, 'gateway-0123456789')
  assert.equal(body.error, 'Unauthorized')
  assert.match(body.code, /^AUTHLAB_/)
})

test('verifications are counted and timed by mode and outcome, refusals too, in the replica-labelled exposition', async (t) => {
  const app = await build(t)
  await app.inject('/orders/none/me')
  await app.inject('/orders/session/me')
  const body = (await app.inject('/orders/metrics')).body
  const replica = { service: 'orders', replica: 'orders-7' }
  const refused = { mode: 'session', outcome: 'unauthorized', ...replica }
  assert.equal(seriesValue(body, 'authlab_verify_duration_seconds_count', refused), 1)
  assert.equal(seriesValue(body, 'authlab_auth_decisions_total', refused), 1)
  assert.equal(
    seriesValue(body, 'authlab_auth_decisions_total', { mode: 'none', outcome: 'ok', ...replica }),
    1,
  )
  const route = { route: '/orders/session/me', status_code: '401', ...replica }
  assert.equal(seriesValue(body, 'http_request_duration_seconds_count', route), 1)
  assert.equal(
    seriesValue(body, 'authlab_revocation_feed_resyncs_total', replica),
    0,
    'no auth, no marker: no sync yet',
  )
})
