import assert from 'node:assert/strict'
import { test } from 'node:test'
import { build, PASSWORD, registerAndLogin, sharedStores, uniqueEmail } from './helper.ts'

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

test('brute force on one account answers 429 with Retry-After, even with the right password', async (t) => {
  const app = await build(t, stores(), { LOGIN_RATE_LIMIT_PER_ACCOUNT: '3' })
  const { email } = await registerAndLogin(app)
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) statuses.push((await app.inject(login(email, 'wrong password!'))).statusCode)
  assert.deepEqual(statuses, [401, 401, 429, 429], 'one login already used 1 of the 3 attempts')
  const right = await app.inject(login(email))
  assert.equal(right.statusCode, 429)
  assert.ok(Number(right.headers['retry-after']) > 0)
  assert.equal(right.json().code, 'AUTHLAB_RATE_LIMITED')
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
