import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, type TestContext, test } from 'node:test'
import { INTERNAL_AUDIENCE, type Mode } from '@authlab/contract'
import Fastify from 'fastify'
import { type VerifyOptions, verify } from '../src/index.ts'
import { AUDIENCE, ISSUER, type Key, newKey, serveJwks } from './keys.ts'

// No Redis anywhere in this file: every app here is registered without @authlab/clients' redisClient.
let jwks: Awaited<ReturnType<typeof serveJwks>>
let signing: Key
before(async () => {
  signing = newKey()
  jwks = await serveJwks(() => [signing.jwk])
})
after(() => jwks?.close())

/** What every registration needs, and nothing a JWT-only app has no use for. */
function jwtOptions(modes: readonly Mode[], over: Partial<VerifyOptions> = {}): VerifyOptions {
  return {
    modes,
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithm: 'EdDSA',
    jwksUrl: jwks.url,
    jwksRefreshMs: 60_000,
    clockToleranceMs: 0,
    maxAgeMs: 3_600_000,
    cookieSecure: false,
    verifyCacheSize: 100,
    ...over,
  }
}

function app(t: TestContext) {
  const fastify = Fastify()
  t.after(() => fastify.close())
  return fastify
}

for (const modes of [['jwt'], ['none', 'jwt']] as const) {
  test(`registered with modes ${JSON.stringify(modes)} and no Redis client or Redis options: a valid token is 200, a forged one 401, and authenticate('session') throws when the route is defined`, async (t) => {
    const fastify = app(t)
    await fastify.register(verify, jwtOptions(modes))
    fastify.get('/me', { onRequest: fastify.authenticate('jwt') }, async (request) => request.user)
    assert.throws(
      () => fastify.get('/session', { onRequest: fastify.authenticate('session') }, async () => 'never'),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'AUTHLAB_VERIFY_MODE_NOT_REGISTERED')
        assert.match(err.message, /session is not registered.*registered: (none, )?jwt\)/)
        return true
      },
    )
    assert.throws(() => fastify.authenticate('jwt-pushed'), { code: 'AUTHLAB_VERIFY_MODE_NOT_REGISTERED' })
    await fastify.ready()
    assert.deepEqual(Object.keys(fastify.authStrategies), [...modes])
    assert.equal(fastify.hasDecorator('redis'), false)
    assert.equal(fastify.hasDecorator('revocationReader'), false, 'no revocation reader, so no Redis read')

    const [userId, loginId] = [randomUUID(), randomUUID()]
    const token = signing.sign({ sub: userId, sid: loginId, jti: randomUUID() })
    const ok = await fastify.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })
    assert.equal(ok.statusCode, 200)
    assert.deepEqual(ok.json(), { userId, loginId, roles: [] })
    // Signed by a key the JWKS does not publish, under the published key's kid.
    const forged = newKey().sign({ sub: userId, sid: loginId, jti: randomUUID() })
    const [, payload, signature] = forged.split('.')
    const [header] = token.split('.')
    const res = await fastify.inject({
      url: '/me',
      headers: { authorization: `Bearer ${header}.${payload}.${signature}` },
    })
    assert.equal(res.statusCode, 401)
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="authlab"')
  })
}

test('phantom without Redis: an internal-audience token is 200; a public access token, an internal token of an unpublished key under the real kid, and the access cookie are 401; jwt refuses the internal token', async (t) => {
  const fastify = app(t)
  await fastify.register(verify, jwtOptions(['jwt', 'phantom'], { internalAudience: INTERNAL_AUDIENCE }))
  fastify.get('/phantom', { onRequest: fastify.authenticate('phantom') }, async (request) => request.user)
  fastify.get('/jwt', { onRequest: fastify.authenticate('jwt') }, async (request) => request.user)
  await fastify.ready()
  assert.equal(fastify.hasDecorator('revocationReader'), false, 'phantom reads no Redis')
  const claims = { sub: randomUUID(), sid: randomUUID(), jti: randomUUID(), roles: ['admin'] }
  const internal = signing.signInternal(claims)
  const ok = await fastify.inject({ url: '/phantom', headers: { authorization: `Bearer ${internal}` } })
  assert.equal(ok.statusCode, 200)
  assert.deepEqual(ok.json(), { userId: claims.sub, loginId: claims.sid, roles: ['admin'] })
  const publicToken = signing.sign(claims)
  const [header] = internal.split('.')
  const [, payload, signature] = newKey().signInternal(claims).split('.')
  for (const headers of [
    { authorization: `Bearer ${publicToken}` },
    { authorization: `Bearer ${header}.${payload}.${signature}` },
    { cookie: `access_token=${internal}` },
    {},
  ]) {
    const res = await fastify.inject({ url: '/phantom', headers })
    assert.equal(res.statusCode, 401, JSON.stringify(headers).slice(0, 80))
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="authlab"')
  }
  const jwt = await fastify.inject({ url: '/jwt', headers: { authorization: `Bearer ${internal}` } })
  assert.equal(jwt.statusCode, 401, 'jwt took an internal token')
})

test('phantom needs an internalAudience that differs from the audience', async (t) => {
  for (const over of [{}, { internalAudience: '' }, { internalAudience: 'authlab-api' }]) {
    const fastify = app(t)
    await assert.rejects(
      async () => {
        await fastify.register(verify, jwtOptions(['phantom'], over)).ready()
      },
      { code: 'AUTHLAB_VERIFY_OPTIONS_INVALID' },
    )
  }
})

test('an unknown mode in modes, or none at all, is refused at registration, before the key set is fetched', async (t) => {
  for (const modes of [['jwt', 'jwt-magic'], ['JWT'], []] as unknown as Mode[][]) {
    const fastify = app(t)
    const fetched = jwks.requests()
    await assert.rejects(
      async () => {
        await fastify.register(verify, jwtOptions(modes)).ready()
      },
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'AUTHLAB_VERIFY_OPTIONS_INVALID')
        assert.match(err.message, modes.length === 0 ? /modes must be a non-empty array/ : /unknown mode/)
        return true
      },
    )
    assert.equal(jwks.requests(), fetched, `${JSON.stringify(modes)}: nothing started`)
  }
})

test('a mode that reads Redis is refused at registration when no Redis client is registered', async (t) => {
  for (const mode of ['session', 'session-cached', 'jwt-denylist', 'jwt-pushed'] as const) {
    const fastify = app(t)
    const options = jwtOptions(['jwt', mode], {
      sessionIdleTtlMs: 60_000,
      sessionCacheTtlMs: 300,
      sessionCacheMaxEntries: 100,
      pushedMaxStalenessMs: 1000,
    })
    await assert.rejects(
      async () => {
        await fastify.register(verify, options).ready()
      },
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'AUTHLAB_VERIFY_OPTIONS_INVALID')
        assert.match(err.message, new RegExp(`modes ${mode} read Redis: register redisClient`))
        return true
      },
    )
  }
})

test("a mode's own options are required when that mode is registered, and only then", async (t) => {
  for (const [modes, missing] of [
    [['introspect'], /authUrl is required with the introspect mode/],
    [['session'], /sessionIdleTtlMs is required with the session or session-cached mode/],
    [['jwt-pushed'], /pushedMaxStalenessMs is required with the jwt-pushed mode/],
  ] as const) {
    const fastify = app(t)
    await assert.rejects(
      async () => {
        await fastify.register(verify, jwtOptions(modes)).ready()
      },
      {
        code: 'AUTHLAB_VERIFY_OPTIONS_INVALID',
        message: missing,
      },
    )
  }
  const introspecting = app(t)
  await introspecting.register(
    verify,
    jwtOptions(['introspect'], {
      // Nothing listens on port 9 (discard): no auth service to reach, and none asked before a request.
      authUrl: 'http://127.0.0.1:9',
      introspectTimeoutMs: 300,
      introspectionClient: { id: 'test-client', secret: 'test-client-secret-0123' },
    }),
  )
  introspecting.get('/me', { onRequest: introspecting.authenticate('introspect') }, async (r) => r.user)
  assert.equal(
    (await introspecting.inject({ url: '/me' })).statusCode,
    401,
    'introspect needs no Redis either',
  )
  const given = app(t)
  await assert.rejects(
    async () => {
      await given.register(verify, jwtOptions(['jwt'], { sessionCacheTtlMs: 0 })).ready()
    },
    {
      code: 'AUTHLAB_VERIFY_OPTIONS_INVALID',
      message: /sessionCacheTtlMs must be positive/,
    },
  )
})
