import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CSRF_HEADER } from '@authlab/contract'
import { build, registerAndLogin, sharedStores } from './helper.ts'

const stores = sharedStores()

test('GET /auth/me answers the caller {userId, username, roles} for a Bearer token, a session cookie or an access-token cookie, with no CSRF header', async (t) => {
  const app = await build(t, stores())
  const { email, userId, login } = await registerAndLogin(app)
  const expected = { userId, username: email, roles: [] }
  for (const [name, request] of [
    ['bearer', { headers: { authorization: `Bearer ${login.accessToken}` } }],
    ['session cookie', { cookies: { sid: login.sessionId } }],
    ['access-token cookie', { cookies: { access_token: login.accessToken } }],
  ] as const) {
    const res = await app.inject({ method: 'GET', url: '/auth/me', ...request })
    assert.equal(res.statusCode, 200, name)
    assert.deepEqual(res.json(), expected, name)
    assert.equal(res.headers['cache-control'], 'no-store', name)
  }
})

test('GET /auth/me answers the roles stored on the user (migration 005: none by default)', async (t) => {
  const app = await build(t, stores())
  const { userId, login } = await registerAndLogin(app)
  const { rows } = await app.pg.query<{ roles: string[] }>('SELECT roles FROM users WHERE id = $1', [userId])
  assert.deepEqual(rows[0]?.roles, [])
  await app.pg.query("UPDATE users SET roles = '{admin,auditor}' WHERE id = $1", [userId])
  const res = await app.inject({
    method: 'GET',
    url: '/auth/me',
    headers: { authorization: `Bearer ${login.accessToken}` },
  })
  assert.deepEqual(res.json().roles, ['admin', 'auditor'])
})

test('GET /auth/me answers 401 for a revoked credential, a malformed Bearer header, garbage, or none', async (t) => {
  const app = await build(t, stores())
  const { login } = await registerAndLogin(app)
  const logout = await app.inject({
    method: 'POST',
    url: '/auth/logout',
    headers: { authorization: `Bearer ${login.accessToken}` },
  })
  assert.equal(logout.statusCode, 204)
  for (const [name, request] of [
    ['revoked bearer', { headers: { authorization: `Bearer ${login.accessToken}` } }],
    ['revoked session cookie', { cookies: { sid: login.sessionId } }],
    ['revoked access-token cookie', { cookies: { access_token: login.accessToken } }],
    ['malformed bearer', { headers: { authorization: 'Bearer a b' } }],
    ['garbage bearer', { headers: { authorization: 'Bearer not.a.jwt' } }],
    ['a refresh token is no caller', { headers: { authorization: `Bearer ${login.refreshToken}` } }],
    ['nothing', {}],
  ] as const) {
    const res = await app.inject({ method: 'GET', url: '/auth/me', ...request })
    assert.equal(res.statusCode, 401, name)
    assert.equal(res.json().code, 'AUTHLAB_UNAUTHENTICATED', name)
    // RFC 9110 §15.5.2 / RFC 6750 §3: a challenge on every 401, invalid_token for a refused token.
    const refused = name !== 'nothing' && name !== 'malformed bearer'
    assert.equal(
      res.headers['www-authenticate'],
      refused ? 'Bearer realm="authlab", error="invalid_token"' : 'Bearer realm="authlab"',
      name,
    )
  }
})

test('GET /auth/me answers 401 for an access token past its exp, while its session still answers', async (t) => {
  const app = await build(t, stores(), { ACCESS_TOKEN_TTL_S: '1', JWT_CLOCK_TOLERANCE_S: '0' })
  const { login } = await registerAndLogin(app)
  await new Promise((r) => setTimeout(r, 2100))
  const bearer = { authorization: `Bearer ${login.accessToken}` }
  assert.equal((await app.inject({ method: 'GET', url: '/auth/me', headers: bearer })).statusCode, 401)
  const cookie = await app.inject({ method: 'GET', url: '/auth/me', cookies: { sid: login.sessionId } })
  assert.equal(cookie.statusCode, 200)
  // A GET needs no CSRF proof; the header changes nothing either.
  const withHeader = await app.inject({
    method: 'GET',
    url: '/auth/me',
    cookies: { sid: login.sessionId },
    headers: { [CSRF_HEADER]: '1' },
  })
  assert.equal(withHeader.statusCode, 200)
})

test('the OpenAPI document describes /auth/revoke (form body, no security), /auth/me and /auth/password (Bearer or session cookie)', async (t) => {
  const app = await build(t, stores())
  const doc = (await app.inject('/auth/openapi.json')).json()
  const revoke = doc.paths['/auth/revoke'].post
  assert.deepEqual(revoke.security, [])
  assert.ok(revoke.requestBody.content['application/x-www-form-urlencoded'])
  assert.deepEqual(Object.keys(revoke.responses).sort(), ['200', '400', '429', '503'])
  assert.equal(revoke.responses['400'].content['application/json'].schema.properties.error.type, 'string')
  const me = doc.paths['/auth/me'].get
  assert.deepEqual(me.security, [{ bearer: [] }, { sessionCookie: [] }])
  assert.deepEqual(Object.keys(me.responses['200'].content['application/json'].schema.properties).sort(), [
    'roles',
    'userId',
    'username',
  ])
  const password = doc.paths['/auth/password'].post
  assert.deepEqual(password.security, [{ bearer: [] }, { sessionCookie: [] }])
  assert.deepEqual(Object.keys(password.requestBody.content['application/json'].schema.properties).sort(), [
    'currentPassword',
    'newPassword',
  ])
  assert.equal(doc.components.securitySchemes.sessionCookie.in, 'cookie')
})
