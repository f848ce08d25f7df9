import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hashSessionId, keys } from '@authlab/revocation'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
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
const form = { 'content-type': 'application/x-www-form-urlencoded' }

/** RFC 7009 §2.1 as a client sends it: form-urlencoded, no client authentication. */
function revoke(app: FastifyInstance, params: Record<string, string>): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/auth/revoke',
    headers: form,
    payload: new URLSearchParams(params).toString(),
  })
}

const claimsOf = (accessToken: string): { sid: string; jti: string } =>
  JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString())

/** Whether each credential of a login still works: access token, session id, refresh token. */
async function alive(app: FastifyInstance, login: { accessToken: string; sessionId: string }) {
  return {
    access: (await introspect(app, login.accessToken)).json().active as boolean,
    session: (await introspect(app, login.sessionId)).json().active as boolean,
  }
}

async function refreshStatus(app: FastifyInstance, refreshToken: string): Promise<number> {
  return (await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken } })).statusCode
}

async function secondLogin(app: FastifyInstance, email: string) {
  const res = await app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: PASSWORD } })
  assert.equal(res.statusCode, 200)
  return res.json()
}

const revocationCount = async (app: FastifyInstance): Promise<number> =>
  (await app.pg.query<{ n: number }>('SELECT count(*)::int AS n FROM revocations')).rows[0]!.n

test('revoking an access token answers 200 with an empty body and revokes its login: the token, its session and its refresh family; another login lives', async (t) => {
  const app = await build(t, stores())
  const { email, login } = await registerAndLogin(app)
  const other = await secondLogin(app, email)
  const res = await revoke(app, { token: login.accessToken, token_type_hint: 'access_token' })
  assert.equal(res.statusCode, 200)
  assert.equal(res.body, '')
  assert.equal(res.headers['cache-control'], 'no-store')
  assert.deepEqual(await alive(app, login), { access: false, session: false })
  assert.equal(await refreshStatus(app, login.refreshToken), 401)
  assert.deepEqual(await alive(app, other), { access: true, session: true })
  const { sid, jti } = claimsOf(login.accessToken)
  const { rows } = await app.pg.query<{ kind: string }>(
    "SELECT kind FROM revocations WHERE reason = 'revoke' AND value = ANY($1) ORDER BY kind",
    [[sid, jti]],
  )
  assert.deepEqual(
    rows.map((r) => r.kind),
    ['jti', 'login'],
    'the login and the presented jti are in the revocation log, reason revoke',
  )
})

test('revoking a refresh token revokes its login: the family, the session and every access token of the login', async (t) => {
  const app = await build(t, stores())
  const { login } = await registerAndLogin(app)
  const refreshed = (
    await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: login.refreshToken } })
  ).json()
  assert.equal(
    (await revoke(app, { token: refreshed.refreshToken, token_type_hint: 'refresh_token' })).statusCode,
    200,
  )
  assert.deepEqual(await alive(app, login), { access: false, session: false })
  assert.equal((await introspect(app, refreshed.accessToken)).json().active, false, 'the sibling JWT')
  assert.equal(await refreshStatus(app, refreshed.refreshToken), 401)
})

test('revoking a session id revokes that login: the session, its access tokens and its refresh family', async (t) => {
  const app = await build(t, stores())
  const { login } = await registerAndLogin(app)
  assert.equal((await revoke(app, { token: login.sessionId, token_type_hint: 'session' })).statusCode, 200)
  assert.deepEqual(await alive(app, login), { access: false, session: false })
  assert.equal(await refreshStatus(app, login.refreshToken), 401)
})

test('revoking a spent refresh token revokes its login: a thief who refreshed first loses the successor', async (t) => {
  const app = await build(t, stores())
  const { login } = await registerAndLogin(app)
  // The thief refreshes with T first: T is spent, the thief holds S.
  const stolen = await app.inject({
    method: 'POST',
    url: '/auth/refresh',
    payload: { refreshToken: login.refreshToken },
  })
  assert.equal(stolen.statusCode, 200)
  const successor = stolen.json()
  // The victim's client revokes T.
  assert.equal(
    (await revoke(app, { token: login.refreshToken, token_type_hint: 'refresh_token' })).statusCode,
    200,
  )
  assert.equal(await refreshStatus(app, successor.refreshToken), 401, 'S is refused')
  assert.equal((await introspect(app, login.accessToken)).json().active, false, "the login's access token")
  assert.equal(
    (await introspect(app, successor.accessToken)).json().active,
    false,
    "the thief's access token",
  )
})

test('revoking a session id whose redis record is gone still revokes its login: postgres decides', async (t) => {
  const app = await build(t, stores())
  const { login } = await registerAndLogin(app)
  assert.equal(await app.redis.del(keys.session(hashSessionId(login.sessionId))), 1)
  assert.equal((await revoke(app, { token: login.sessionId })).statusCode, 200)
  assert.equal(await refreshStatus(app, login.refreshToken), 401, 'the refresh token no longer refreshes')
  assert.equal((await introspect(app, login.accessToken)).json().active, false)
})

test('the hint is only a hint (RFC 7009 §2.1): a wrong, unknown or absent hint still finds and revokes the token', async (t) => {
  const app = await build(t, stores())
  const cases: [string, (l: Record<string, string>) => string, string | undefined][] = [
    ['refresh token hinted as access token', (l) => l.refreshToken!, 'access_token'],
    ['session id hinted as refresh token', (l) => l.sessionId!, 'refresh_token'],
    ['access token hinted as refresh token', (l) => l.accessToken!, 'refresh_token'],
    ['refresh token with an unknown hint', (l) => l.refreshToken!, 'id_token_of_sorts'],
    ['session id without a hint', (l) => l.sessionId!, undefined],
  ]
  for (const [name, pick, hint] of cases) {
    const { login } = await registerAndLogin(app)
    const res = await revoke(app, { token: pick(login), ...(hint ? { token_type_hint: hint } : {}) })
    assert.equal(res.statusCode, 200, name)
    assert.deepEqual(await alive(app, login), { access: false, session: false }, name)
  }
})

test('an unknown, malformed, expired or already revoked token answers 200 with an empty body and revokes nothing (RFC 7009 §2.2)', async (t) => {
  const app = await build(t, stores(), { ACCESS_TOKEN_TTL_S: '1', JWT_CLOCK_TOLERANCE_S: '0' })
  const { login: expiring } = await registerAndLogin(app)
  const { login: gone } = await registerAndLogin(app)
  assert.equal((await revoke(app, { token: gone.sessionId })).statusCode, 200)
  await new Promise((r) => setTimeout(r, 2100))
  const before = await revocationCount(app)
  for (const token of [
    'not-a-token',
    'a'.repeat(43),
    'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
    expiring.accessToken,
    gone.sessionId,
    gone.refreshToken,
  ]) {
    const res = await revoke(app, { token })
    assert.equal(res.statusCode, 200, token)
    assert.equal(res.body, '', token)
  }
  assert.equal(await revocationCount(app), before, 'nothing written to the revocation log')
  assert.equal(
    (await introspect(app, expiring.sessionId)).json().active,
    true,
    'an expired JWT revokes nothing',
  )
})

test('a missing or empty token answers 400 invalid_request in the RFC 6749 §5.2 shape; cookies and a Bearer header are no substitute', async (t) => {
  const app = await build(t, stores())
  const { login } = await registerAndLogin(app)
  const cases: [string, InjectOptions][] = [
    [
      'no token',
      { method: 'POST', url: '/auth/revoke', headers: form, payload: 'token_type_hint=access_token' },
    ],
    ['empty token', { method: 'POST', url: '/auth/revoke', headers: form, payload: 'token=' }],
    ['no body', { method: 'POST', url: '/auth/revoke' }],
    [
      'only credentials of the caller',
      {
        method: 'POST',
        url: '/auth/revoke',
        headers: { authorization: `Bearer ${login.accessToken}`, 'x-authlab-csrf': '1' },
        cookies: { sid: login.sessionId, access_token: login.accessToken },
      },
    ],
  ]
  for (const [name, request] of cases) {
    const res = await app.inject(request)
    assert.equal(res.statusCode, 400, name)
    const body = res.json()
    assert.equal(body.error, 'invalid_request', name)
    assert.equal(typeof body.error_description, 'string', name)
    assert.deepEqual(Object.keys(body).sort(), ['code', 'error', 'error_description', 'requestId'], name)
  }
  assert.deepEqual(await alive(app, login), { access: true, session: true }, 'nothing revoked')
})

test('revoke takes a form-urlencoded body, or JSON; text/plain 400 and another content type 415, in the RFC 6749 §5.2 shape; a token over 8192 characters 400', async (t) => {
  const app = await build(t, stores())
  const { login } = await registerAndLogin(app)
  const xml = await app.inject({
    method: 'POST',
    url: '/auth/revoke',
    headers: { 'content-type': 'application/xml' },
    payload: `<token>${login.accessToken}</token>`,
  })
  assert.equal(xml.statusCode, 415)
  assert.equal(xml.json().error, 'invalid_request')
  // Fastify reads text/plain as a string, which is no form: the parameters are missing.
  const plain = await app.inject({
    method: 'POST',
    url: '/auth/revoke',
    headers: { 'content-type': 'text/plain' },
    payload: `token=${login.accessToken}`,
  })
  assert.equal(plain.statusCode, 400)
  assert.equal(plain.json().error, 'invalid_request')
  const long = await revoke(app, { token: 'x'.repeat(8193) })
  assert.equal(long.statusCode, 400)
  assert.equal(long.json().error, 'invalid_request')
  assert.deepEqual(await alive(app, login), { access: true, session: true })
  const json = await app.inject({
    method: 'POST',
    url: '/auth/revoke',
    payload: { token: login.accessToken, client_id: 'a-public-client' },
  })
  assert.equal(json.statusCode, 200, 'JSON, with a parameter revoke does not know, which it ignores')
  assert.deepEqual(await alive(app, login), { access: false, session: false })
})

test('revoke is POST only: other methods answer 405 with Allow: POST', async (t) => {
  const app = await build(t, stores())
  for (const method of ['GET', 'PUT', 'DELETE'] as const) {
    const res = await app.inject({ method, url: '/auth/revoke' })
    assert.equal(res.statusCode, 405, method)
    assert.equal(res.headers.allow, 'POST', method)
  }
})

test('revoke is rate-limited per client address: past REVOKE_RATE_LIMIT_PER_IP, 429 temporarily_unavailable with Retry-After in the RFC 6749 §5.2 shape, and nothing revoked', async (t) => {
  const app = await build(t, stores(), { REVOKE_RATE_LIMIT_PER_IP: '3' })
  const { login } = await registerAndLogin(app)
  // An address of its own: the file's other tests share the stores, and so the counts.
  const from = (remoteAddress: string, payload: string) =>
    app.inject({ method: 'POST', url: '/auth/revoke', headers: form, payload, remoteAddress })
  const token = (value: string) => new URLSearchParams({ token: value }).toString()
  for (let i = 0; i < 3; i++)
    assert.equal((await from('198.51.100.9', token('d'.repeat(43)))).statusCode, 200)
  const res = await from('198.51.100.9', token(login.accessToken))
  assert.equal(res.statusCode, 429)
  assert.ok(Number(res.headers['retry-after']) > 0, 'Retry-After')
  const body = res.json()
  assert.equal(body.error, 'temporarily_unavailable')
  assert.equal(body.code, 'AUTHLAB_RATE_LIMITED')
  assert.deepEqual(Object.keys(body).sort(), ['code', 'error', 'error_description', 'requestId'])
  assert.deepEqual(await alive(app, login), { access: true, session: true }, 'nothing revoked')
  assert.equal((await from('198.51.100.9', 'x=1')).statusCode, 429, 'counted before the body is judged')
  assert.equal((await from('192.0.2.7', token(login.accessToken))).statusCode, 200, 'another address')
  assert.deepEqual(await alive(app, login), { access: false, session: false })
})

test('a revocation is counted in authlab_revocations_total with reason revoke', async (t) => {
  const app = await build(t, stores())
  const { login } = await registerAndLogin(app)
  await revoke(app, { token: login.sessionId })
  const metrics = (await app.inject('/auth/metrics')).body
  assert.match(metrics, /authlab_revocations_total\{[^}]*reason="revoke"[^}]*\} 1/)
})

test('redis down: revoke answers 503 temporarily_unavailable with Retry-After and the login is not marked revoked (a retry is safe); postgres down: 503 even for an unknown token', async (t) => {
  const own = await startStores()
  t.after(() => stopStores(own))
  const app = await build(t, own)
  const { login } = await registerAndLogin(app)
  await own.redis.stop()
  const res = await revoke(app, { token: login.accessToken })
  assert.equal(res.statusCode, 503)
  assert.equal(res.json().error, 'temporarily_unavailable')
  assert.equal(res.json().code, 'AUTHLAB_STORE_UNAVAILABLE')
  assert.ok(Number(res.headers['retry-after']) > 0)
  const { rows } = await app.pg.query('SELECT count(*)::int AS n FROM logins WHERE revoked_at IS NOT NULL')
  assert.equal(rows[0].n, 0, 'not revoked in postgres either')
  assert.equal(await revocationCount(app), 0)
  await own.redis.start()
  for (let i = 0; i < 100 && app.redis.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 50))
  assert.equal((await revoke(app, { token: login.accessToken })).statusCode, 200, 'the retry revokes')
  assert.equal((await introspect(app, login.accessToken)).json().active, false)

  await own.postgres.stop()
  const unknown = await revoke(app, { token: 'b'.repeat(43), token_type_hint: 'refresh_token' })
  assert.equal(unknown.statusCode, 503, 'whether it is unknown cannot be told without postgres')
  assert.equal(unknown.json().error, 'temporarily_unavailable')
})
