import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CSRF_HEADER } from '@authlab/contract'
import { loadAuthConfig } from '../src/config.ts'
import { build, introspect, PASSWORD, registerAndLogin, sharedStores, uniqueEmail } from './helper.ts'

const stores = sharedStores()

test('register creates a user with an argon2id hash and answers 201 {id, email}', async (t) => {
  const app = await build(t, stores())
  const email = uniqueEmail()
  const res = await app.inject({
    method: 'POST',
    url: '/auth/register',
    payload: { email, password: PASSWORD },
  })
  assert.equal(res.statusCode, 201)
  assert.deepEqual(Object.keys(res.json()).sort(), ['email', 'id'])
  const { rows } = await app.pg.query('SELECT password_hash FROM users WHERE id = $1', [res.json().id])
  assert.match(rows[0].password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
})

test('registering a taken email, in any letter case, answers 409', async (t) => {
  const app = await build(t, stores())
  const email = uniqueEmail()
  await app.inject({ method: 'POST', url: '/auth/register', payload: { email, password: PASSWORD } })
  const res = await app.inject({
    method: 'POST',
    url: '/auth/register',
    payload: { email: email.toUpperCase(), password: PASSWORD },
  })
  assert.equal(res.statusCode, 409)
  assert.equal(res.json().code, 'AUTHLAB_EMAIL_TAKEN')
})

test('login issues a session, an access JWT with the contract claims and a refresh token', async (t) => {
  const app = await build(t, stores())
  const { login, userId } = await registerAndLogin(app)
  assert.equal(login.tokenType, 'Bearer')
  assert.equal(login.expiresIn, 300)
  assert.match(login.sessionId, /^[A-Za-z0-9_-]{43}$/, '256-bit session id')
  const [header, payload] = login.accessToken
    .split('.')
    .slice(0, 2)
    .map((p: string) => JSON.parse(Buffer.from(p, 'base64url').toString()))
  assert.equal(header.alg, 'EdDSA')
  assert.equal(header.typ, 'at+jwt')
  assert.equal(typeof header.kid, 'string')
  assert.deepEqual(Object.keys(payload).sort(), ['aud', 'exp', 'iat', 'iss', 'jti', 'roles', 'sid', 'sub'])
  assert.equal(payload.sub, userId)
  assert.deepEqual(payload.roles, [], 'a new user holds no roles')
  assert.equal(payload.exp - payload.iat, 300)
  assert.notEqual(payload.sid, login.sessionId, 'the JWT names the login, never carries the session secret')
})

test('login sets HttpOnly SameSite=Strict cookies: sid and access_token on /, refresh_token only on /auth/refresh', async (t) => {
  const app = await build(t, stores())
  const { cookies } = await registerAndLogin(app)
  const byName = new Map(cookies.map((c) => [c.name, c]))
  for (const [name, path] of [
    ['sid', '/'],
    ['access_token', '/'],
    ['refresh_token', '/auth/refresh'],
  ]) {
    const cookie = byName.get(name as string)
    assert.ok(cookie, name)
    assert.equal(cookie.httpOnly, true)
    assert.equal(cookie.sameSite, 'Strict')
    assert.equal(cookie.path, path, name)
    assert.equal(cookie.secure, undefined, 'Secure is off by default for plain-http local runs')
  }
})

test('a browser login (it sends Origin) gets the session id and refresh token only as HttpOnly cookies, never in the body; other clients get them in the body too', async (t) => {
  const app = await build(t, stores())
  const email = uniqueEmail()
  await app.inject({ method: 'POST', url: '/auth/register', payload: { email, password: PASSWORD } })
  const login = (headers: Record<string, string>) =>
    app.inject({ method: 'POST', url: '/auth/login', headers, payload: { email, password: PASSWORD } })
  const browser = await login({ origin: 'https://app.example.test' })
  assert.equal(browser.statusCode, 200)
  const body = browser.json()
  assert.equal(body.sessionId, undefined)
  assert.equal(body.refreshToken, undefined)
  assert.ok(body.accessToken && body.user.email === email, 'the short-lived access token and the user')
  const cookies = new Map(browser.cookies.map((c) => [c.name, c]))
  for (const name of ['sid', 'refresh_token']) assert.equal(cookies.get(name)?.httpOnly, true, name)
  const script = await login({})
  assert.ok(script.json().sessionId && script.json().refreshToken, 'curl, a service, a mobile app')
})

test('the session cookie ends with the browser session unless rememberMe asks for Max-Age', async (t) => {
  const app = await build(t, stores(), { SESSION_ABSOLUTE_TTL_S: '3600' })
  const { email, cookies } = await registerAndLogin(app)
  assert.equal(cookies.find((c) => c.name === 'sid')?.maxAge, undefined)
  const remembered = await app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email, password: PASSWORD, rememberMe: true },
  })
  assert.equal(remembered.cookies.find((c) => c.name === 'sid')?.maxAge, 3600)
})

test('every answer that carries a credential says Cache-Control: no-store and Pragma: no-cache', async (t) => {
  const app = await build(t, stores())
  const { login } = await registerAndLogin(app)
  const { email } = await registerAndLogin(app)
  const answers = [
    await app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: PASSWORD } }),
    await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: login.refreshToken } }),
    await introspect(app, login.accessToken),
  ]
  for (const res of answers) {
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(res.headers['cache-control'], 'no-store')
    assert.equal(res.headers.pragma, 'no-cache')
  }
})

test('with COOKIE_SECURE the cookies are Secure: __Host- for sid and access_token, __Secure- for the path-scoped refresh', async (t) => {
  const app = await build(t, stores(), { COOKIE_SECURE: 'true' })
  const { cookies } = await registerAndLogin(app)
  assert.deepEqual(cookies.map((c) => c.name).sort(), [
    '__Host-access_token',
    '__Host-sid',
    '__Secure-refresh_token',
  ])
  for (const c of cookies) assert.equal(c.secure, true)
})

test('two logins of one user get different session ids', async (t) => {
  const app = await build(t, stores())
  const { email, login } = await registerAndLogin(app)
  const again = await app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email, password: PASSWORD },
  })
  assert.notEqual(again.json().sessionId, login.sessionId)
})

test('a wrong password and an unknown user get the same 401 answer', async (t) => {
  const app = await build(t, stores())
  const { email } = await registerAndLogin(app)
  const wrong = await app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email, password: 'wrong password!' },
  })
  const unknown = await app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email: uniqueEmail(), password: 'wrong password!' },
  })
  assert.equal(wrong.statusCode, 401)
  assert.equal(unknown.statusCode, 401)
  // The same answer but for the request's own id.
  const { requestId: _w, ...wrongBody } = wrong.json()
  const { requestId: _u, ...unknownBody } = unknown.json()
  assert.deepEqual(wrongBody, unknownBody)
  assert.notEqual(_w, _u)
})

test('refresh rotates: the new pair works and the old refresh token is spent', async (t) => {
  const app = await build(t, stores())
  const { login } = await registerAndLogin(app)
  const res = await app.inject({
    method: 'POST',
    url: '/auth/refresh',
    payload: { refreshToken: login.refreshToken },
  })
  assert.equal(res.statusCode, 200)
  const pair = res.json()
  assert.notEqual(pair.refreshToken, login.refreshToken)
  assert.equal((await introspect(app, pair.accessToken)).json().active, true)
  const next = await app.inject({
    method: 'POST',
    url: '/auth/refresh',
    payload: { refreshToken: pair.refreshToken },
  })
  assert.equal(next.statusCode, 200)
})

test('reusing a spent refresh token (no grace window) answers 401 and revokes the whole family and its session', async (t) => {
  const app = await build(t, stores(), { REFRESH_REUSE_GRACE_MS: '0' })
  const { login } = await registerAndLogin(app)
  const first = await app.inject({
    method: 'POST',
    url: '/auth/refresh',
    payload: { refreshToken: login.refreshToken },
  })
  const reuse = await app.inject({
    method: 'POST',
    url: '/auth/refresh',
    payload: { refreshToken: login.refreshToken },
  })
  assert.equal(reuse.statusCode, 401)
  assert.equal(reuse.json().code, 'AUTHLAB_REFRESH_REUSED')
  const current = await app.inject({
    method: 'POST',
    url: '/auth/refresh',
    payload: { refreshToken: first.json().refreshToken },
  })
  assert.equal(current.statusCode, 401, "the legitimate holder's newer token is revoked too")
  assert.equal((await introspect(app, login.sessionId)).json().active, false, 'session revoked')
  assert.equal((await introspect(app, first.json().accessToken)).json().active, false, 'its JWTs revoked')
})

test('an unknown refresh token answers 401', async (t) => {
  const app = await build(t, stores())
  const res = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: 'nope' } })
  assert.equal(res.statusCode, 401)
  assert.equal(res.json().code, 'AUTHLAB_REFRESH_INVALID')
})

test('refresh by cookie needs the CSRF header, and its new refresh token stays in the cookie', async (t) => {
  const app = await build(t, stores())
  const { login } = await registerAndLogin(app)
  const cookies = { refresh_token: login.refreshToken }
  const without = await app.inject({ method: 'POST', url: '/auth/refresh', cookies })
  assert.equal(without.statusCode, 403)
  assert.equal(without.json().code, 'AUTHLAB_CSRF_HEADER_MISSING')
  const withHeader = await app.inject({
    method: 'POST',
    url: '/auth/refresh',
    cookies,
    headers: { [CSRF_HEADER]: '1' },
  })
  assert.equal(withHeader.statusCode, 200)
  assert.equal(withHeader.json().refreshToken, undefined, 'not readable by page scripts')
  assert.ok(withHeader.json().accessToken)
  const rotated = withHeader.cookies.find((c) => c.name === 'refresh_token')
  assert.ok(rotated?.value && rotated.value !== login.refreshToken)
  assert.equal(rotated.path, '/auth/refresh')
})

test('logout with the access token revokes that login: session, its JWTs, refresh family; other logins live', async (t) => {
  const app = await build(t, stores())
  const { email, login } = await registerAndLogin(app)
  const other = (
    await app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: PASSWORD } })
  ).json()
  const refreshed = (
    await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: login.refreshToken } })
  ).json()
  const res = await app.inject({
    method: 'POST',
    url: '/auth/logout',
    headers: { authorization: `Bearer ${login.accessToken}` },
  })
  assert.equal(res.statusCode, 204)
  assert.equal((await introspect(app, login.accessToken)).json().active, false)
  assert.equal(
    (await introspect(app, refreshed.accessToken)).json().active,
    false,
    'a sibling JWT of the login',
  )
  assert.equal((await introspect(app, login.sessionId)).json().active, false)
  const refresh = await app.inject({
    method: 'POST',
    url: '/auth/refresh',
    payload: { refreshToken: refreshed.refreshToken },
  })
  assert.equal(refresh.statusCode, 401)
  assert.equal((await introspect(app, other.accessToken)).json().active, true)
  assert.equal((await introspect(app, other.sessionId)).json().active, true)
  const { rows } = await app.pg.query("SELECT kind FROM revocations WHERE reason = 'logout' AND value = $1", [
    JSON.parse(Buffer.from(login.accessToken.split('.')[1], 'base64url').toString()).sid,
  ])
  assert.equal(rows.length, 1, 'recorded in the revocation log')
})

test('logout by session cookie works with the CSRF header and is refused without it', async (t) => {
  const app = await build(t, stores())
  const { login } = await registerAndLogin(app)
  const cookies = { sid: login.sessionId }
  assert.equal((await app.inject({ method: 'POST', url: '/auth/logout', cookies })).statusCode, 403)
  const res = await app.inject({
    method: 'POST',
    url: '/auth/logout',
    cookies,
    headers: { [CSRF_HEADER]: '1' },
  })
  assert.equal(res.statusCode, 204)
  assert.equal((await introspect(app, login.accessToken)).json().active, false)
})

test("auth reads the credential by the contract's rule: another scheme leaves it to the cookie, which needs the CSRF header", async (t) => {
  const app = await build(t, stores())
  const { login } = await registerAndLogin(app)
  const logout = (
    headers: Record<string, string>,
    cookies: Record<string, string> = { sid: login.sessionId },
  ) => app.inject({ method: 'POST', url: '/auth/logout', cookies, headers })
  // A Bearer header not of the form `Bearer <token68>` is a 401, never the cookie instead.
  for (const authorization of ['Bearer', 'Bearer ', `Bearer ${login.accessToken} x`]) {
    const res = await logout({ authorization, [CSRF_HEADER]: '1' })
    assert.equal(res.statusCode, 401, authorization)
    assert.equal(res.json().code, 'AUTHLAB_UNAUTHENTICATED', authorization)
  }
  // Basic is not ours (a browser may attach it by itself): the session cookie decides, with its proof.
  const basic = await logout({ authorization: 'Basic dTpw' })
  assert.equal(basic.statusCode, 403)
  assert.equal(basic.json().code, 'AUTHLAB_CSRF_HEADER_MISSING')
  assert.equal(
    basic.json().message,
    `A state-changing request authenticated by cookie must carry the ${CSRF_HEADER} header`,
  )
  assert.equal((await introspect(app, login.accessToken)).json().active, true, 'nothing revoked yet')
  // The scheme in any case: a lower-case bearer needs no proof, the cookie notwithstanding.
  assert.equal((await logout({ authorization: `bearer ${login.accessToken}` })).statusCode, 204)
  assert.equal((await introspect(app, login.accessToken)).json().active, false)
})

test('logout-all revokes every login of the user and its earlier tokens, and a new login afterwards works', async (t) => {
  const app = await build(t, stores())
  const { email, login, userId } = await registerAndLogin(app)
  const second = (
    await app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: PASSWORD } })
  ).json()
  const res = await app.inject({
    method: 'POST',
    url: '/auth/logout-all',
    payload: { refreshToken: second.refreshToken },
  })
  assert.equal(res.statusCode, 204)
  for (const token of [login.accessToken, login.sessionId, second.accessToken, second.sessionId]) {
    assert.equal((await introspect(app, token)).json().active, false)
  }
  const again = (
    await app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: PASSWORD } })
  ).json()
  assert.equal((await introspect(app, again.accessToken)).json().active, true, 'not caught by the cut-off')
  const earlier = {
    jti: 'unknown-jti',
    loginId: 'unknown-login',
    userId,
    issuedAt: Math.floor(Date.now() / 1000) - 5,
  }
  assert.equal(
    await app.revocationReader.isRevoked(earlier),
    true,
    'the per-user cut-off covers earlier tokens',
  )
})

test('two refreshes of the same token at once (two tabs) both succeed with the same successor', async (t) => {
  const app = await build(t, stores(), { REFRESH_REUSE_GRACE_MS: '5000' })
  const { login } = await registerAndLogin(app)
  const refresh = () =>
    app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: login.refreshToken } })
  const [a, b] = await Promise.all([refresh(), refresh()])
  assert.deepEqual([a.statusCode, b.statusCode], [200, 200])
  assert.equal(a.json().refreshToken, b.json().refreshToken, 'one successor, not a reuse')
  assert.equal((await introspect(app, login.sessionId)).json().active, true, 'the login is not revoked')
  const next = await app.inject({
    method: 'POST',
    url: '/auth/refresh',
    payload: { refreshToken: a.json().refreshToken },
  })
  assert.equal(next.statusCode, 200, 'the shared successor rotates normally')
})

test('a spent refresh token presented after the grace window is reuse: 401 and the login is revoked', async (t) => {
  const app = await build(t, stores(), { REFRESH_REUSE_GRACE_MS: '200' })
  const { login } = await registerAndLogin(app)
  const first = await app.inject({
    method: 'POST',
    url: '/auth/refresh',
    payload: { refreshToken: login.refreshToken },
  })
  assert.equal(first.statusCode, 200)
  await new Promise((r) => setTimeout(r, 400))
  const late = await app.inject({
    method: 'POST',
    url: '/auth/refresh',
    payload: { refreshToken: login.refreshToken },
  })
  assert.equal(late.statusCode, 401)
  assert.equal(late.json().code, 'AUTHLAB_REFRESH_REUSED')
  assert.equal((await introspect(app, login.sessionId)).json().active, false, 'session revoked')
  assert.equal((await introspect(app, first.json().accessToken)).json().active, false, 'its JWTs revoked')
})

test('the database holds no usable refresh token: successors are stored sealed, tokens hashed', async (t) => {
  const app = await build(t, stores())
  const { login } = await registerAndLogin(app)
  const next = (
    await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: login.refreshToken } })
  ).json()
  const { rows } = await app.pg.query('SELECT token_hash, successor_sealed FROM refresh_tokens')
  const stored = JSON.stringify(rows)
  assert.ok(!stored.includes(login.refreshToken) && !stored.includes(next.refreshToken))
})

test('revoked or spent credentials do not authorise logout or logout-all', async (t) => {
  const app = await build(t, stores(), { REFRESH_REUSE_GRACE_MS: '0' })
  const victim = await registerAndLogin(app)
  const stolen = victim.login
  // The victim rotates the refresh token (the stolen one is now spent) and logs that login out.
  const rotated = (
    await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: stolen.refreshToken } })
  ).json()
  const out = await app.inject({
    method: 'POST',
    url: '/auth/logout',
    headers: { authorization: `Bearer ${rotated.accessToken}` },
  })
  assert.equal(out.statusCode, 204)
  // A second, live login of the victim must survive whatever the old credentials are used for.
  const live = (
    await app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: victim.email, password: PASSWORD },
    })
  ).json()
  for (const [name, request] of [
    ['revoked bearer', { headers: { authorization: `Bearer ${stolen.accessToken}` } }],
    ['spent refresh token', { payload: { refreshToken: stolen.refreshToken } }],
    ['revoked session cookie', { cookies: { sid: stolen.sessionId }, headers: { 'x-authlab-csrf': '1' } }],
  ] as const) {
    for (const url of ['/auth/logout-all', '/auth/logout']) {
      const res = await app.inject({ method: 'POST', url, ...request })
      assert.equal(res.statusCode, 401, `${name} on ${url}`)
    }
  }
  assert.equal((await introspect(app, live.accessToken)).json().active, true, 'the live login survived')
})

test('logout without any credential answers 401', async (t) => {
  const app = await build(t, stores())
  const res = await app.inject({ method: 'POST', url: '/auth/logout' })
  assert.equal(res.statusCode, 401)
})

test('introspect answers RFC 7662 shapes for a JWT, a session id, and garbage', async (t) => {
  const app = await build(t, stores())
  const { login, userId } = await registerAndLogin(app)
  const jwt = (await introspect(app, login.accessToken)).json()
  assert.equal(jwt.active, true)
  assert.equal(jwt.sub, userId)
  assert.equal(jwt.token_type, 'access_token')
  assert.equal(typeof jwt.exp, 'number')
  const session = (await introspect(app, login.sessionId)).json()
  assert.equal(session.active, true)
  assert.equal(session.sub, userId)
  assert.equal(session.token_type, 'session')
  for (const junk of ['garbage', 'a.b.c', `${login.accessToken}x`, 'A'.repeat(43)]) {
    const res = await introspect(app, junk)
    assert.equal(res.statusCode, 200)
    assert.deepEqual(res.json(), { active: false })
  }
})

test('an access token past its exp (and the clock tolerance) is inactive', async (t) => {
  const app = await build(t, stores(), { ACCESS_TOKEN_TTL_S: '1', JWT_CLOCK_TOLERANCE_S: '0' })
  const { login } = await registerAndLogin(app)
  await new Promise((r) => setTimeout(r, 2100))
  assert.equal((await introspect(app, login.accessToken)).json().active, false)
})

test('a session past its idle timeout is gone', async (t) => {
  const app = await build(t, stores(), { SESSION_IDLE_TTL_S: '1' })
  const { login } = await registerAndLogin(app)
  await new Promise((r) => setTimeout(r, 1200))
  assert.equal((await introspect(app, login.sessionId)).json().active, false)
})

test('healthz is 200 and readyz is 200 when postgres and redis answer and the revocation copies are complete', async (t) => {
  const app = await build(t, stores())
  assert.equal((await app.inject('/auth/healthz')).statusCode, 200)
  const ready = await app.inject('/auth/readyz')
  assert.equal(ready.statusCode, 200)
  assert.deepEqual(ready.json(), { postgres: 'up', redis: 'up', revocations: 'complete' })
})

test('the OpenAPI document lists every auth route', async (t) => {
  const app = await build(t, stores())
  const doc = (await app.inject('/auth/openapi.json')).json()
  for (const path of [
    '/auth/register',
    '/auth/login',
    '/auth/refresh',
    '/auth/logout',
    '/auth/logout-all',
    '/auth/introspect',
  ]) {
    assert.ok(doc.paths[path], path)
  }
})

test('ACCESS_TOKEN_TTL_S longer than JWT_MAX_AGE_S is refused at start', () => {
  assert.throws(() => loadAuthConfig({ ACCESS_TOKEN_TTL_S: '7200', JWT_MAX_AGE_S: '3600' }), /JWT_MAX_AGE_S/)
})
