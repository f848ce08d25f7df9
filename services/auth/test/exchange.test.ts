import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CSRF_HEADER, INTERNAL_AUDIENCE } from '@authlab/contract'
import { createDecoder, createVerifier } from 'fast-jwt'
import type { FastifyInstance } from 'fastify'
import { loadAuthConfig, phantomTokenTtlS } from '../src/config.ts'
import { accelExpires } from '../src/routes/exchange.ts'
import { build, registerAndLogin, sharedStores, startStores, stopStores } from './helper.ts'

const stores = sharedStores()
const decode = createDecoder({ complete: true })

const exchange = (app: FastifyInstance, headers: Record<string, string>) =>
  app.inject({ method: 'GET', url: '/auth/exchange', headers })

/** The public key of the JWKS entry `kid`, for verifying as a downstream replica does. */
async function publicKey(app: FastifyInstance, kid: string) {
  const { keys } = (await app.inject('/.well-known/jwks.json')).json() as { keys: { kid: string }[] }
  const jwk = keys.find((k) => k.kid === kid)
  assert.ok(jwk, 'the internal token is signed with a key of the JWKS')
  const { createPublicKey } = await import('node:crypto')
  return createPublicKey({ key: jwk as never, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString()
}

test('exchange: a live session (cookie or Bearer session id) gets a short-lived internal-audience token with sub, sid, jti and roles, signed with a JWKS key', async (t) => {
  const app = await build(t, stores())
  const { login, userId } = await registerAndLogin(app)
  const presented: Record<string, string>[] = [
    { cookie: `sid=${login.sessionId}` },
    { authorization: `Bearer ${login.sessionId}` },
  ]
  for (const headers of presented) {
    const res = await exchange(app, headers)
    assert.equal(res.statusCode, 204, JSON.stringify(headers))
    assert.equal(res.headers['cache-control'], 'no-store')
    const [scheme, token] = String(res.headers['x-phantom-authorization']).split(' ')
    assert.equal(scheme, 'Bearer')
    const { header, payload } = decode(token!) as {
      header: { kid: string }
      payload: Record<string, unknown>
    }
    const claims = createVerifier({ key: await publicKey(app, header.kid), allowedAud: INTERNAL_AUDIENCE })(
      token!,
    )
    assert.equal(claims.sub, userId)
    assert.equal(claims.sid, (decode(login.accessToken) as { payload: { sid: string } }).payload.sid)
    assert.equal(typeof claims.jti, 'string')
    assert.deepEqual(claims.roles, [])
    assert.equal(payload.aud, INTERNAL_AUDIENCE)
    assert.equal(
      (payload.exp as number) - (payload.iat as number),
      phantomTokenTtlS({ PHANTOM_CACHE_TTL_MS: 1000 }),
    )
  }
})

test('exchange: no session, an unknown or malformed one, a logged-out one, and a public access token as Bearer are 401 with a challenge', async (t) => {
  const app = await build(t, stores())
  const { login } = await registerAndLogin(app)
  const refused: Record<string, string>[] = [
    {},
    { cookie: `sid=${'a'.repeat(43)}` },
    { cookie: 'sid=short' },
    { authorization: `Bearer ${login.accessToken}` },
    // The Bearer header wins over the cookie (the contract's rule), so an access token never
    // rides along with a valid session.
    { authorization: `Bearer ${login.accessToken}`, cookie: `sid=${login.sessionId}` },
    { authorization: 'Bearer' },
  ]
  for (const headers of refused) {
    const res = await exchange(app, headers)
    assert.equal(res.statusCode, 401, JSON.stringify(headers))
    assert.match(String(res.headers['www-authenticate']), /^(Bearer|Cookie) realm="authlab"/)
    assert.equal(res.headers['x-phantom-authorization'], undefined)
    assert.equal(res.headers['x-accel-expires'], undefined, 'a refusal is never cached')
  }
  const logout = await app.inject({
    method: 'POST',
    url: '/auth/logout',
    headers: { authorization: `Bearer ${login.accessToken}` },
  })
  assert.equal(logout.statusCode, 204)
  assert.equal((await exchange(app, { cookie: `sid=${login.sessionId}` })).statusCode, 401)
})

test('exchange: a cookie-carried state-changing request needs the CSRF header, a Bearer one does not', async (t) => {
  const app = await build(t, stores())
  const { login } = await registerAndLogin(app)
  const cookie = `sid=${login.sessionId}`
  assert.equal((await exchange(app, { cookie, 'x-original-method': 'POST' })).statusCode, 403)
  assert.equal(
    (await exchange(app, { cookie, 'x-original-method': 'POST', [CSRF_HEADER]: '1' })).statusCode,
    204,
  )
  assert.equal((await exchange(app, { cookie, 'x-original-method': 'GET' })).statusCode, 204)
  const bearer = `Bearer ${login.sessionId}`
  assert.equal(
    (await exchange(app, { authorization: bearer, 'x-original-method': 'DELETE' })).statusCode,
    204,
  )
})

test('exchange: X-Accel-Expires names the last whole second before checkedAt + PHANTOM_CACHE_TTL_MS, and 0 (no caching) at a TTL of 0', async (t) => {
  const now = Date.now()
  for (const ttl of [1000, 1500, 2999, 60000]) {
    const header = accelExpires(now, ttl)
    if (header === '0') continue
    const last = Number(header.slice(1))
    // nginx serves the entry while its clock (whole seconds) is ≤ last: until (last + 1) s.
    assert.ok((last + 1) * 1000 <= now + ttl, `${ttl}: served past the bound`)
    assert.ok((last + 2) * 1000 > now + ttl, `${ttl}: the tightest such second`)
  }
  assert.equal(accelExpires(now, 0), '0')
  assert.equal(accelExpires(now - 5000, 1000), '0', 'a deadline already past is not cached')

  const app = await build(t, stores(), { PHANTOM_CACHE_TTL_MS: '0' })
  const { login } = await registerAndLogin(app)
  const res = await exchange(app, { cookie: `sid=${login.sessionId}` })
  assert.equal(res.statusCode, 204)
  assert.equal(res.headers['x-accel-expires'], '0')
})

test('exchange: Redis down answers 503 (fail closed), never a token', async (t) => {
  const own = await startStores()
  t.after(() => stopStores(own))
  const app = await build(t, own)
  const { login } = await registerAndLogin(app)
  await own.redis.stop()
  const res = await exchange(app, { cookie: `sid=${login.sessionId}` })
  assert.equal(res.statusCode, 503)
  assert.equal(res.headers['x-phantom-authorization'], undefined)
})

test('config: JWT_INTERNAL_AUDIENCE equal to JWT_AUDIENCE is refused at start', () => {
  assert.throws(
    () =>
      loadAuthConfig({
        DATABASE_URL: 'postgres://x@127.0.0.1/x',
        JWT_AUDIENCE: 'same',
        JWT_INTERNAL_AUDIENCE: 'same',
      }),
    /JWT_INTERNAL_AUDIENCE equals JWT_AUDIENCE/,
  )
})
