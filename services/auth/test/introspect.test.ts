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
