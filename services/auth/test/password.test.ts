import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CSRF_HEADER } from '@authlab/contract'
import { verify } from '@node-rs/argon2'
import type { FastifyInstance, InjectOptions } from 'fastify'
import {
  build,
  introspect,
  PASSWORD,
  registerAndLogin,
  sharedStores,
  startStores,
  stopStores,
} from './helper.ts'

const stores = sharedStores()
const NEW_PASSWORD = 'a new and longer passphrase'

function change(
  credential: InjectOptions,
  currentPassword: string,
  newPassword = NEW_PASSWORD,
  remoteAddress?: string,
): InjectOptions {
  return {
    method: 'POST',
    url: '/auth/password',
    payload: { currentPassword, newPassword },
    ...credential,
    ...(remoteAddress ? { remoteAddress } : {}),
  }
}
const bearer = (accessToken: string): InjectOptions => ({
  headers: { authorization: `Bearer ${accessToken}` },
})

async function login(app: FastifyInstance, email: string, password = PASSWORD) {
  return app.inject({ method: 'POST', url: '/auth/login', payload: { email, password } })
}

async function liveness(
  app: FastifyInstance,
  l: { accessToken: string; sessionId: string; refreshToken: string },
) {
  const refresh = await app.inject({
    method: 'POST',
    url: '/auth/refresh',
    payload: { refreshToken: l.refreshToken },
  })
  return {
    access: (await introspect(app, l.accessToken)).json().active as boolean,
    session: (await introspect(app, l.sessionId)).json().active as boolean,
    refresh: refresh.statusCode,
  }
}

const storedHash = async (app: FastifyInstance, userId: string): Promise<string> =>
  (await app.pg.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [userId]))
    .rows[0]!.password_hash

test('a password change revokes every login of the user, the current one included, and answers 200 with a fresh login as /auth/login does; only the new password logs in then', async (t) => {
  const app = await build(t, stores())
  const { email, userId, login: current } = await registerAndLogin(app)
  const others = [(await login(app, email)).json(), (await login(app, email)).json()]
  const res = await app.inject(change(bearer(current.accessToken), PASSWORD))
  assert.equal(res.statusCode, 200)
  const renewed = res.json()
  assert.equal(renewed.tokenType, 'Bearer')
  assert.deepEqual(renewed.user, { id: userId, email })
  assert.ok(renewed.accessToken && renewed.refreshToken && renewed.sessionId, 'an API caller gets the tokens')
  assert.equal(res.headers['cache-control'], 'no-store')
  const cookies = res.cookies.map((c) => c.name).sort()
  assert.deepEqual(cookies, ['access_token', 'refresh_token', 'sid'])
  for (const other of others) {
    assert.deepEqual(await liveness(app, other), { access: false, session: false, refresh: 401 })
  }
  assert.deepEqual(
    await liveness(app, current),
    { access: false, session: false, refresh: 401 },
    'the old session id, access and refresh tokens of the caller are refused',
  )
  const me = (accessToken: string) =>
    app.inject({ method: 'GET', url: '/auth/me', ...bearer(accessToken) }).then((r) => r.statusCode)
  assert.equal(await me(current.accessToken), 401)
  assert.equal(await me(renewed.accessToken), 200, 'the new login works')
  assert.deepEqual(await liveness(app, renewed), { access: true, session: true, refresh: 200 })
  assert.equal((await login(app, email)).statusCode, 401, 'the old password')
  assert.equal((await login(app, email, NEW_PASSWORD)).statusCode, 200, 'the new password')
  assert.match(await storedHash(app, userId), /^\$argon2id\$/)
  const { rows } = await app.pg.query<{ n: number }>(
    "SELECT count(DISTINCT value)::int AS n FROM revocations WHERE reason = 'password-change' AND user_id = $1 AND kind = 'login'",
    [userId],
  )
  assert.equal(rows[0]!.n, 3, "the two other logins and the caller's own in the revocation log")
  const metrics = (await app.inject('/auth/metrics')).body
  assert.match(metrics, /authlab_revocations_total\{[^}]*reason="password-change"[^}]*\} 1/)
})

test('by session cookie a password change needs the CSRF header: 403 without it and nothing changes; a browser gets its renewed login as cookies only', async (t) => {
  const app = await build(t, stores())
  const { email, userId, login: current } = await registerAndLogin(app)
  const other = (await login(app, email)).json()
  const before = await storedHash(app, userId)
  const cookie: InjectOptions = { cookies: { sid: current.sessionId } }
  const refused = await app.inject(change(cookie, PASSWORD))
  assert.equal(refused.statusCode, 403)
  assert.equal(refused.json().code, 'AUTHLAB_CSRF_HEADER_MISSING')
  assert.equal(await storedHash(app, userId), before)
  assert.equal((await introspect(app, other.sessionId)).json().active, true)
  const res = await app.inject(
    change({ ...cookie, headers: { [CSRF_HEADER]: '1', origin: 'https://authlab.test' } }, PASSWORD),
  )
  assert.equal(res.statusCode, 200)
  const body = res.json()
  assert.equal(body.refreshToken, undefined, 'a browser gets no refresh token in the body')
  assert.equal(body.sessionId, undefined, 'nor the session id')
  const jar = Object.fromEntries(res.cookies.map((c) => [c.name, c.value]))
  assert.ok(jar.sid && jar.access_token && jar.refresh_token)
  assert.equal((await introspect(app, other.sessionId)).json().active, false)
  assert.equal((await introspect(app, current.sessionId)).json().active, false, 'the old session id')
  assert.equal((await introspect(app, jar.sid!)).json().active, true, 'the new session cookie')
  const me = await app.inject({ method: 'GET', url: '/auth/me', cookies: { sid: jar.sid! } })
  assert.equal(me.statusCode, 200)
})

test('a wrong current password answers 403, changes nothing, and counts as a failed login on the account: past the limit, password changes and logins from that address get 429', async (t) => {
  const app = await build(t, stores(), { LOGIN_RATE_LIMIT_PER_ACCOUNT_IP: '2' })
  const { email, userId, login: current } = await registerAndLogin(app)
  const other = (await login(app, email)).json()
  const before = await storedHash(app, userId)
  const statuses: number[] = []
  for (let i = 0; i < 3; i++) {
    statuses.push((await app.inject(change(bearer(current.accessToken), 'not my password'))).statusCode)
  }
  assert.deepEqual(statuses, [403, 403, 429])
  const wrong = await app.inject(change(bearer(current.accessToken), 'not my password'))
  assert.equal(wrong.statusCode, 429)
  assert.ok(Number(wrong.headers['retry-after']) > 0)
  assert.equal(
    (await app.inject(change(bearer(current.accessToken), PASSWORD))).statusCode,
    429,
    'even right',
  )
  assert.equal((await login(app, email)).statusCode, 429, 'login shares the count')
  assert.equal(await storedHash(app, userId), before)
  assert.equal((await introspect(app, other.accessToken)).json().active, true, 'no login revoked')
})

test('a wrong current password answers 403 AUTHLAB_CURRENT_PASSWORD_INVALID, no 401 a client would take for a dead token; a right one afterwards clears the failure', async (t) => {
  const app = await build(t, stores(), { LOGIN_RATE_LIMIT_PER_ACCOUNT_IP: '2' })
  const { email, login: current } = await registerAndLogin(app)
  const wrong = await app.inject(change(bearer(current.accessToken), 'not my password'))
  assert.equal(wrong.statusCode, 403)
  assert.equal(wrong.json().code, 'AUTHLAB_CURRENT_PASSWORD_INVALID')
  assert.equal(wrong.headers['www-authenticate'], undefined)
  assert.equal((await app.inject(change(bearer(current.accessToken), PASSWORD))).statusCode, 200)
  // Cleared: two more failures are judged before the limit answers.
  for (const expected of [401, 401, 429]) {
    assert.equal((await login(app, email, 'not my password')).statusCode, expected)
  }
})

test('every password change and attempt counts against the per-address budget of LOGIN_RATE_LIMIT_PER_IP (429 past it)', async (t) => {
  // Registered on an app without the limit: register counts against its own per-address budget.
  const { login: current } = await registerAndLogin(await build(t, stores()))
  const app = await build(t, stores(), { LOGIN_RATE_LIMIT_PER_IP: '2' })
  const address = '203.0.113.77'
  const statuses: number[] = []
  for (const password of ['not my password', 'still not it', PASSWORD]) {
    statuses.push(
      (await app.inject(change(bearer(current.accessToken), password, NEW_PASSWORD, address))).statusCode,
    )
  }
  assert.deepEqual(statuses, [403, 403, 429])
})

test('a too-short or too-long new password, a missing field or an unknown property answers 400 and changes nothing', async (t) => {
  const app = await build(t, stores())
  const { userId, login: current } = await registerAndLogin(app)
  const before = await storedHash(app, userId)
  for (const [name, payload] of [
    ['new password too short', { currentPassword: PASSWORD, newPassword: 'short' }],
    ['new password too long', { currentPassword: PASSWORD, newPassword: 'x'.repeat(257) }],
    ['current password too long', { currentPassword: 'x'.repeat(257), newPassword: NEW_PASSWORD }],
    ['no current password', { newPassword: NEW_PASSWORD }],
    ['no new password', { currentPassword: PASSWORD }],
    ['a number', { currentPassword: PASSWORD, newPassword: 12345678 }],
    ['unknown property', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD, email: 'x@y.z' }],
  ] as const) {
    const res = await app.inject({
      ...bearer(current.accessToken),
      method: 'POST',
      url: '/auth/password',
      payload,
    })
    assert.equal(res.statusCode, 400, name)
  }
  assert.equal(await storedHash(app, userId), before)
})

test('without a live credential a password change answers 401: none, a revoked one, a refresh token', async (t) => {
  const app = await build(t, stores())
  const { userId, login: current } = await registerAndLogin(app)
  const before = await storedHash(app, userId)
  const none = await app.inject(change({}, PASSWORD))
  assert.equal(none.statusCode, 401)
  assert.equal(none.headers['www-authenticate'], 'Bearer realm="authlab"', 'RFC 6750 §3.1: no error code')
  const refresh = await app.inject(change(bearer(current.refreshToken), PASSWORD))
  assert.equal(refresh.statusCode, 401)
  assert.equal(refresh.headers['www-authenticate'], 'Bearer realm="authlab", error="invalid_token"')
  await app.inject({ method: 'POST', url: '/auth/logout', ...bearer(current.accessToken) })
  const revoked = await app.inject(change(bearer(current.accessToken), PASSWORD))
  assert.equal(revoked.statusCode, 401)
  assert.equal(revoked.headers['www-authenticate'], 'Bearer realm="authlab", error="invalid_token"')
  assert.equal(await storedHash(app, userId), before)
})

test('a failure while revoking the other logins leaves nothing half-written: the old hash, every login live, nothing in the revocation log', async (t) => {
  const app = await build(t, stores())
  const { email, userId, login: current } = await registerAndLogin(app)
  const other = (await login(app, email)).json()
  const before = await storedHash(app, userId)
  const writer = app.revocationWriter
  const original = writer.revoke
  writer.revoke = async () => {
    throw Object.assign(new Error('simulated: the revocation copies could not be written'), { code: 'TEST' })
  }
  t.after(() => {
    writer.revoke = original
  })
  const res = await app.inject(change(bearer(current.accessToken), PASSWORD))
  assert.ok(res.statusCode >= 500, `${res.statusCode}`)
  writer.revoke = original
  assert.equal(await storedHash(app, userId), before)
  assert.ok(await verify(before, PASSWORD))
  assert.equal((await introspect(app, other.accessToken)).json().active, true)
  const { rows } = await app.pg.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM revocations WHERE user_id = $1',
    [userId],
  )
  assert.equal(rows[0]!.n, 0)
  assert.equal(
    (await app.inject(change(bearer(current.accessToken), PASSWORD))).statusCode,
    200,
    'a retry works',
  )
})

test('a login verified against the old password that commits after the change is refused, not issued', async (t) => {
  const app = await build(t, stores())
  const { email, login: current } = await registerAndLogin(app)
  // The login's password check, then the change, then the login's issuing transaction.
  const verified = await app.users.authenticate(email, PASSWORD)
  assert.equal((await app.inject(change(bearer(current.accessToken), PASSWORD))).statusCode, 200)
  await assert.rejects(app.credentials.login(verified), { code: 'AUTHLAB_INVALID_CREDENTIALS' })
  const fresh = await app.users.authenticate(email, NEW_PASSWORD)
  assert.ok(
    (await app.credentials.login(fresh)).accessToken,
    'one verified against the new password is issued',
  )
})

test('redis down: a password change answers 503 and changes nothing', async (t) => {
  const own = await startStores()
  t.after(() => stopStores(own))
  const app = await build(t, own)
  const { userId, login: current } = await registerAndLogin(app)
  const before = await storedHash(app, userId)
  await own.redis.stop()
  const res = await app.inject(change(bearer(current.accessToken), PASSWORD))
  assert.equal(res.statusCode, 503)
  assert.equal(await storedHash(app, userId), before)
})
