import assert from 'node:assert/strict'
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import { after, before, type TestContext, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { redisClient, redisReady } from '@authlab/clients'
import { INTERNAL_AUDIENCE, MODES } from '@authlab/contract'
import { hashSessionId, RevocationWriter, redisRunId } from '@authlab/revocation'
import { type RedisServer, startRedis } from '@authlab/servers'
import Fastify, { type FastifyInstance } from 'fastify'
import { type VerifyOptions, verify } from '../src/index.ts'
import { AUDIENCE, ISSUER, type Key, newKey, serveJwks } from './keys.ts'

// Real Redis; the key set is a static JWKS served over HTTP that the tests can change.
let redis: RedisServer
let jwks: Awaited<ReturnType<typeof serveJwks>>
let jwksUrl: string
let published: Key[] = []
/** JWKs served ahead of the published keys' own (keys no verifier can use). */
let unusable: object[] = []
let signing: Key
before(async () => {
  redis = await startRedis()
  signing = newKey()
  published = [signing]
  jwks = await serveJwks(() => [...unusable, ...published.map((k) => k.jwk)])
  jwksUrl = jwks.url
})
after(async () => {
  await jwks?.close()
  await redis?.close()
})

function options(over: Partial<VerifyOptions> = {}): VerifyOptions {
  return {
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithm: 'EdDSA',
    jwksUrl,
    jwksRefreshMs: 60_000,
    // Nothing listens on port 9 (discard): introspection has no auth service to reach here.
    authUrl: 'http://127.0.0.1:9',
    cookieSecure: false,
    verifyCacheSize: 100,
    sessionIdleTtlMs: 60_000,
    sessionCacheTtlMs: 300,
    sessionCacheMaxEntries: 100,
    pushedMaxStalenessMs: 1000,
    denylistFailOpen: false,
    introspectTimeoutMs: 300,
    clockToleranceMs: 0,
    maxAgeMs: 3_600_000,
    introspectionClient: { id: 'test-client', secret: 'test-client-secret-0123' },
    internalAudience: INTERNAL_AUDIENCE,
    ...over,
  }
}

/** An app with one route per mode, its strategy as the onRequest hook; closed when the test ends. */
async function build(t: TestContext, over: Partial<VerifyOptions> = {}, server = redis) {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(redisClient, { url: server.url, commandTimeoutMs: 300 })
  await app.register(verify, options(over))
  for (const mode of MODES) {
    app.get(`/${mode}`, { onRequest: app.authenticate(mode) }, async (request) => request.user)
    app.post(`/${mode}`, { onRequest: app.authenticate(mode) }, async (request) => request.user)
  }
  await app.ready()
  await redisReady(app.redis)
  const writer = new RevocationWriter(app.redis)
  await writer.markReady(await redisRunId(app.redis))
  await until('revocations ready', () => app.revocationReader.check())
  return { app, writer }
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

function login(key = signing) {
  const userId = randomUUID()
  const loginId = randomUUID()
  const jti = randomUUID()
  return { userId, loginId, jti, token: key.sign({ sub: userId, sid: loginId, jti }) }
}
/** A session written as auth writes one, live for a minute. */
async function liveSession(writer: RevocationWriter): Promise<string> {
  const sessionId = randomBytes(32).toString('base64url')
  await writer.writeSession(
    sessionId,
    { userId: 'u1', loginId: 'l1', expiresAt: Date.now() + 60_000, roles: [] },
    60_000,
  )
  return sessionId
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const get = (app: FastifyInstance, url: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url, headers })

test('options are validated before anything starts: a missing issuer or a zero TTL is refused', async () => {
  for (const bad of [{ issuer: '' }, { sessionCacheTtlMs: 0 }, { algorithm: 'HS256' as never }]) {
    const app = Fastify()
    await app.register(redisClient, { url: redis.url, commandTimeoutMs: 300 })
    await assert.rejects(
      async () => {
        await app.register(verify, options(bad)).ready()
      },
      {
        code: 'AUTHLAB_VERIFY_OPTIONS_INVALID',
      },
    )
    await app.close()
  }
})

test('every strategy is built once, one per mode, and none needs no credential', async (t) => {
  const { app } = await build(t)
  assert.deepEqual(Object.keys(app.authStrategies).sort(), [...MODES].sort())
  assert.equal((await get(app, '/none')).statusCode, 200)
})

test('jwt: a valid token is accepted; no token, a wrong audience and an unknown kid are 401 with a Bearer challenge', async (t) => {
  const { app } = await build(t)
  const l = login()
  const ok = await get(app, '/jwt', bearer(l.token))
  assert.equal(ok.statusCode, 200)
  assert.deepEqual(ok.json(), { userId: l.userId, loginId: l.loginId, roles: [] })
  const other = newKey()
  for (const headers of [{}, bearer(`${l.token}x`), bearer(other.sign({ sub: 'u', sid: 's', jti: 'j' }))]) {
    const res = await get(app, '/jwt', headers)
    assert.equal(res.statusCode, 401)
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="authlab"')
  }
})

test('phantom accepts only an internal-audience token, and the public-audience modes never accept one: jwt, jwt-denylist and jwt-pushed refuse it (401)', async (t) => {
  const { app } = await build(t)
  const l = login()
  const internal = signing.signInternal({ sub: l.userId, sid: l.loginId, jti: l.jti, roles: ['admin'] })
  const ok = await get(app, '/phantom', bearer(internal))
  assert.equal(ok.statusCode, 200)
  assert.deepEqual(ok.json(), { userId: l.userId, loginId: l.loginId, roles: ['admin'] })
  for (const mode of ['jwt', 'jwt-denylist', 'jwt-pushed']) {
    const res = await get(app, `/${mode}`, bearer(internal))
    assert.equal(res.statusCode, 401, `${mode} took an internal token`)
  }
  const refused = await get(app, '/phantom', bearer(l.token))
  assert.equal(refused.statusCode, 401, 'phantom took a public access token')
  assert.equal(refused.headers['www-authenticate'], 'Bearer realm="authlab"')
})

test('session: a live session is accepted, an unknown one is 401 with a Cookie challenge, and it is 503 while revocations are not ready', async (t) => {
  const { app, writer } = await build(t)
  const sessionId = await liveSession(writer)
  assert.equal((await get(app, '/session', { cookie: `sid=${sessionId}` })).statusCode, 200)
  const unknown = await get(app, '/session', { cookie: `sid=${randomBytes(32).toString('base64url')}` })
  assert.equal(unknown.statusCode, 401)
  assert.equal(unknown.headers['www-authenticate'], 'Cookie realm="authlab"')
  await writer.markReady('another-redis-process')
  await until('not ready', async () => !(await app.revocationReader.check()))
  const res = await get(app, '/session', { cookie: `sid=${sessionId}` })
  assert.equal(res.statusCode, 503)
  assert.equal(app.authStrategies.session.ready(), false)
})

test('session-cached: serves a revoked session from its cache for at most the TTL, then rejects it', async (t) => {
  const { app, writer } = await build(t, { sessionCacheTtlMs: 300 })
  const sessionId = randomBytes(32).toString('base64url')
  await writer.writeSession(
    sessionId,
    { userId: 'u2', loginId: 'l2', expiresAt: Date.now() + 60_000, roles: [] },
    60_000,
  )
  const cookie = { cookie: `sid=${sessionId}` }
  assert.equal((await get(app, '/session-cached', cookie)).statusCode, 200)
  await writer.revoke({ entries: [], sessionHashes: [hashSessionId(sessionId)], watermark: 0 })
  const revokedAt = Date.now()
  const right = await get(app, '/session-cached', cookie)
  if (Date.now() - revokedAt < 300) assert.equal(right.statusCode, 200, 'cached within the TTL')
  await sleep(350)
  assert.equal((await get(app, '/session-cached', cookie)).statusCode, 401)
  assert.equal((await get(app, '/session', cookie)).statusCode, 401)
})

test('the roles a credential carries reach the principal: the token claim, the session record (rewritten in place: session at once, session-cached after its TTL)', async (t) => {
  const { app, writer } = await build(t, { sessionCacheTtlMs: 300 })
  const token = signing.sign({ sub: 'u3', sid: 'l3', jti: randomUUID(), roles: ['admin', 'ops'] })
  await until('the feed is ready', () => app.authStrategies['jwt-pushed'].ready())
  for (const mode of ['jwt', 'jwt-denylist', 'jwt-pushed'] as const) {
    const res = await get(app, `/${mode}`, bearer(token))
    assert.deepEqual(res.json().roles, ['admin', 'ops'], mode)
  }
  const sessionId = randomBytes(32).toString('base64url')
  const record = { userId: 'u3', loginId: 'l3', expiresAt: Date.now() + 60_000, roles: ['admin'] }
  await writer.writeSession(sessionId, record, 60_000)
  const cookie = { cookie: `sid=${sessionId}` }
  assert.deepEqual((await get(app, '/session', cookie)).json().roles, ['admin'])
  assert.deepEqual((await get(app, '/session-cached', cookie)).json().roles, ['admin'])
  await writer.revoke({
    entries: [],
    sessionHashes: [],
    watermark: 0,
    rewrites: [{ sessionHash: hashSessionId(sessionId), record: { ...record, roles: [] } }],
  })
  assert.deepEqual((await get(app, '/session', cookie)).json().roles, [], 'session: at once')
  await sleep(350)
  assert.deepEqual(
    (await get(app, '/session-cached', cookie)).json().roles,
    [],
    'session-cached: after its TTL',
  )
})

test('a signed token whose roles claim is missing or not a list of strings is refused (401): "badminton" is not admin', async (t) => {
  const { app } = await build(t)
  // undefined: the claim is left out of the token altogether.
  for (const roles of [undefined, 'badminton', [1], { admin: true }, null]) {
    const token = signing.sign({ sub: 'u4', sid: 'l4', jti: randomUUID(), roles })
    assert.equal((await get(app, '/jwt', bearer(token))).statusCode, 401, String(JSON.stringify(roles)))
  }
})

test('jwt-denylist: a revoked login, jti or user cut-off is 401; not ready is 503 even with fail-open on', async (t) => {
  const { app, writer } = await build(t, { denylistFailOpen: true })
  const [a, b, c, live] = [login(), login(), login(), login()]
  await writer.revoke({
    entries: [
      { kind: 'login', value: a.loginId, expiresAt: Date.now() + 60_000 },
      { kind: 'jti', value: b.jti, expiresAt: Date.now() + 60_000 },
      { kind: 'user', value: c.userId, cutoff: Date.now() + 2000, expiresAt: Date.now() + 60_000 },
    ],
    sessionHashes: [],
    watermark: 0,
  })
  for (const revoked of [a, b, c])
    assert.equal((await get(app, '/jwt-denylist', bearer(revoked.token))).statusCode, 401)
  assert.equal((await get(app, '/jwt-denylist', bearer(live.token))).statusCode, 200)
  await writer.markReady('another-redis-process')
  await until('not ready', async () => !(await app.revocationReader.check()))
  assert.equal((await get(app, '/jwt-denylist', bearer(live.token))).statusCode, 503)
})

test('jwt-denylist with Redis unreachable: 503 by default, 200 only when DENYLIST_FAIL_OPEN is set', async (t) => {
  const own = await startRedis()
  t.after(() => own.close())
  const closed = await build(t, {}, own)
  const open = await build(t, { denylistFailOpen: true }, own)
  const l = login()
  await own.stop()
  await until('disconnected', () => closed.app.redis.status !== 'ready' && open.app.redis.status !== 'ready')
  assert.equal((await get(closed.app, '/jwt-denylist', bearer(l.token))).statusCode, 503)
  assert.equal((await get(open.app, '/jwt-denylist', bearer(l.token))).statusCode, 200)
  assert.equal(
    (await get(open.app, '/session', { cookie: `sid=${randomBytes(32).toString('base64url')}` })).statusCode,
    503,
  )
})

test('session and jwt-denylist on a Redis that stops answering (SIGSTOP): 503 instead of a hung request, and 200 again once it answers and the marker is re-read', {
  timeout: 30_000,
}, async (t) => {
  const own = await startRedis()
  t.after(() => own.close())
  const { app, writer } = await build(t, {}, own)
  const sessionId = await liveSession(writer)
  const l = login()
  const cookie = { cookie: `sid=${sessionId}` }
  assert.equal((await get(app, '/session', cookie)).statusCode, 200)
  own.freeze()
  const [session, denylist] = await Promise.all([
    get(app, '/session', cookie),
    get(app, '/jwt-denylist', bearer(l.token)),
  ])
  assert.equal(session.statusCode, 503)
  assert.equal(denylist.statusCode, 503)
  own.thaw()
  await redisReady(app.redis, 10_000)
  await until('revocations ready again', () => app.revocationReader.check())
  assert.equal((await get(app, '/session', cookie)).statusCode, 200)
  assert.equal((await get(app, '/jwt-denylist', bearer(l.token))).statusCode, 200)
})

test('jwt-pushed: a revocation reaches the local set without a request to Redis; a stale feed is 503', async (t) => {
  const own = await startRedis()
  t.after(() => own.close())
  const { app, writer } = await build(t, { pushedMaxStalenessMs: 500 }, own)
  const l = login()
  await until('feed fresh', () => app.authStrategies['jwt-pushed'].ready())
  assert.equal((await get(app, '/jwt-pushed', bearer(l.token))).statusCode, 200)
  await writer.revoke({
    entries: [{ kind: 'login', value: l.loginId, expiresAt: Date.now() + 60_000 }],
    sessionHashes: [],
    watermark: 0,
  })
  await until(
    'revocation pushed',
    async () => (await get(app, '/jwt-pushed', bearer(l.token))).statusCode === 401,
  )
  const other = login()
  await own.stop()
  await sleep(600)
  assert.equal(
    (await get(app, '/jwt-pushed', bearer(other.token))).statusCode,
    503,
    'past the staleness bound',
  )
})

test('introspect: no credential is 401; an unreachable auth service is 503, never 200', async (t) => {
  const { app } = await build(t)
  assert.equal((await get(app, '/introspect')).statusCode, 401)
  assert.equal((await get(app, '/introspect', bearer(login().token))).statusCode, 503)
})

test('a kid withdrawn from the JWKS stops verifying within one refresh interval, cached tokens included', async (t) => {
  const { app } = await build(t, { jwksRefreshMs: 200 })
  const l = login()
  assert.equal((await get(app, '/jwt', bearer(l.token))).statusCode, 200)
  const next = newKey()
  published = [next]
  t.after(() => {
    published = [signing]
  })
  await sleep(450)
  assert.equal(
    (await get(app, '/jwt', bearer(l.token))).statusCode,
    401,
    'the withdrawn key no longer verifies',
  )
  assert.equal((await get(app, '/jwt', bearer(login(next).token))).statusCode, 200, 'the new key does')
})

test('an unusable key in the JWKS is left out on its own: the rest of the set still replaces the cached one', async (t) => {
  const { app } = await build(t, { jwksRefreshMs: 200 })
  const l = login()
  assert.equal((await get(app, '/jwt', bearer(l.token))).statusCode, 200)
  const next = newKey()
  // An RSA key published as EdDSA: no EdDSA verifier can be compiled for it.
  const { publicKey: rsa } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  unusable = [{ ...rsa.export({ format: 'jwk' }), kid: randomUUID(), alg: 'EdDSA', use: 'sig' }]
  published = [next]
  t.after(() => {
    published = [signing]
    unusable = []
  })
  await until(
    'the withdrawn key stops verifying',
    async () => (await get(app, '/jwt', bearer(l.token))).statusCode === 401,
    5000,
  )
  assert.equal(
    (await get(app, '/jwt', bearer(login(next).token))).statusCode,
    200,
    'the usable new key verifies',
  )
})

test('the verified-token cache answers only for the exact token: a changed payload, signature or header is verified anew, and a cached token still expires', async (t) => {
  const { app } = await build(t, { verifyCacheSize: 100 })
  const now = Math.floor(Date.now() / 1000)
  const l = { sub: randomUUID(), sid: randomUUID(), jti: randomUUID() }
  const token = signing.signRaw({ ...l, iat: now, exp: now + 2 })
  assert.equal((await get(app, '/jwt', bearer(token))).statusCode, 200, 'verified, now cached')
  const [header, payload, signature] = token.split('.') as [string, string, string]
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>
  const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: randomUUID() })).toString('base64url')
  const otherSignature = Buffer.from(signature, 'base64url').reverse().toString('base64url')
  const otherHeader = Buffer.from(
    JSON.stringify({ alg: 'EdDSA', typ: 'at+jwt', kid: signing.kid, x: 1 }),
  ).toString('base64url')
  for (const [what, forged] of [
    ['another sub under the cached signature', `${header}.${forgedPayload}.${signature}`],
    ['the cached payload under another signature', `${header}.${payload}.${otherSignature}`],
    ['the cached payload and signature under another header', `${otherHeader}.${payload}.${signature}`],
  ] as const) {
    assert.equal((await get(app, '/jwt', bearer(forged))).statusCode, 401, what)
  }
  assert.equal((await get(app, '/jwt', bearer(token))).statusCode, 200, 'the cached token itself still is')
  await until(
    'the cached token expires',
    async () => (await get(app, '/jwt', bearer(token))).statusCode === 401,
    5000,
  )
})

test('a small clock tolerance accepts a token just past exp; maxAge refuses an old token whatever its exp', async (t) => {
  const { app } = await build(t, { clockToleranceMs: 5000, maxAgeMs: 600_000, verifyCacheSize: 0 })
  const now = Math.floor(Date.now() / 1000)
  const claims = () => ({ sub: randomUUID(), sid: randomUUID(), jti: randomUUID() })
  const justPast = signing.signRaw({ ...claims(), iat: now - 60, exp: now - 2 })
  assert.equal((await get(app, '/jwt', bearer(justPast))).statusCode, 200, '2 s past exp, within 5 s')
  const wellPast = signing.signRaw({ ...claims(), iat: now - 60, exp: now - 10 })
  assert.equal((await get(app, '/jwt', bearer(wellPast))).statusCode, 401, '10 s past exp')
  const ancient = signing.signRaw({ ...claims(), iat: now - 3600, exp: now + 3600 })
  assert.equal((await get(app, '/jwt', bearer(ancient))).statusCode, 401, 'issued an hour ago, maxAge 10 min')
})

test('a state-changing request authenticated by cookie needs the CSRF header (403 without); a Bearer token does not', async (t) => {
  const { app, writer } = await build(t)
  const sessionId = await liveSession(writer)
  const { token } = login()
  const post = (url: string, headers: Record<string, string>) => app.inject({ method: 'POST', url, headers })
  const session = { cookie: `sid=${sessionId}` }
  const noProof = await post('/session', session)
  assert.equal(noProof.statusCode, 403)
  assert.equal(noProof.json().code, 'AUTHLAB_CSRF_HEADER_MISSING')
  assert.equal((await post('/session', { ...session, 'x-authlab-csrf': '1' })).statusCode, 200)
  assert.equal(
    (await post('/jwt', { cookie: `access_token=${token}` })).statusCode,
    403,
    'the JWT cookie too',
  )
  assert.equal(
    (await post('/jwt', { cookie: `access_token=${token}`, 'x-authlab-csrf': '1' })).statusCode,
    200,
  )
  assert.equal(
    (await post('/jwt', bearer(token))).statusCode,
    200,
    'a Bearer token is never sent by the browser',
  )
  assert.equal(
    (await post('/jwt', { cookie: `access_token=${token}`, authorization: 'Basic dTpw' })).statusCode,
    403,
    'an Authorization header of another scheme (a browser may attach Basic by itself) leaves the cookie needing proof',
  )
  assert.equal((await get(app, '/session', session)).statusCode, 200, 'safe methods need no proof')
})

test("the JWT modes read the credential by the contract's rule: Bearer in any case, one token68, else the cookie", async (t) => {
  const { app } = await build(t)
  const { token } = login()
  const cookie = { cookie: `access_token=${token}` }
  for (const authorization of [`bearer ${token}`, `BEARER ${token}`, `Bearer  ${token}`]) {
    assert.equal((await get(app, '/jwt', { authorization })).statusCode, 200, authorization)
  }
  for (const authorization of ['Bearer', 'Bearer ', `Bearer ${token} x`, `Bearer\t${token}`]) {
    const res = await get(app, '/jwt', { authorization, ...cookie })
    assert.equal(res.statusCode, 401, `${JSON.stringify(authorization)}: malformed, not the cookie instead`)
  }
  assert.equal((await get(app, '/jwt', { authorization: 'Basic dTpw', ...cookie })).statusCode, 200)
  assert.equal((await get(app, '/jwt', { authorization: '', ...cookie })).statusCode, 200)
  // A state-changing request with no credential at all is refused as unauthenticated, not for its proof.
  const bare = await app.inject({ method: 'POST', url: '/jwt' })
  assert.equal(bare.statusCode, 401)
})
