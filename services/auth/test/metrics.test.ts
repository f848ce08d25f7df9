import assert from 'node:assert/strict'
import { test } from 'node:test'
import { seriesValue } from '@authlab/servers'
import type { FastifyInstance } from 'fastify'
import { build, PASSWORD, registerAndLogin, sharedStores } from './helper.ts'

const stores = sharedStores()

const refresh = (app: FastifyInstance, refreshToken: string) =>
  app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken } })

async function sample(app: FastifyInstance, name: string, labels: Record<string, string>): Promise<number> {
  const res = await app.inject('/auth/metrics')
  assert.equal(res.statusCode, 200)
  return seriesValue(res.body, name, labels) ?? 0
}

test('auth exports logins by outcome, committed revocations by reason, and HTTP histograms by route', async (t) => {
  const app = await build(t, stores(), { REPLICA_ID: 'auth-1' })
  const user = await registerAndLogin(app)
  const wrong = await app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email: user.email, password: `${PASSWORD}!` },
  })
  assert.equal(wrong.statusCode, 401)
  const out = await app.inject({
    method: 'POST',
    url: '/auth/logout-all',
    headers: { authorization: `Bearer ${user.login.accessToken}` },
  })
  assert.equal(out.statusCode, 204)
  // The refresh token of a revoked login is spent: presenting it is refused, not counted as a revocation.
  const spent = await refresh(app, user.login.refreshToken)
  assert.equal(spent.statusCode, 401)

  const labels = { service: 'auth', replica: 'auth-1' }
  assert.equal(await sample(app, 'authlab_logins_total', { outcome: 'ok', ...labels }), 1)
  assert.equal(await sample(app, 'authlab_logins_total', { outcome: 'rejected', ...labels }), 1)
  assert.equal(await sample(app, 'authlab_revocations_total', { reason: 'logout-all', ...labels }), 1)
  assert.equal(await sample(app, 'authlab_refreshes_total', { outcome: 'rejected', ...labels }), 1)
  assert.equal(
    await sample(app, 'http_request_duration_seconds_count', {
      method: 'POST',
      route: '/auth/login',
      status_code: '200',
      ...labels,
    }),
    1,
  )
  const body = (await app.inject('/auth/metrics')).body
  assert.match(body, /^process_cpu_user_seconds_total\{service="auth",replica="auth-1"\} /m)
  assert.doesNotMatch(body, /route="\/auth\/metrics"/, 'scrapes are not counted as traffic')
})

test('a reused refresh token counts one refresh-token-reuse revocation', async (t) => {
  const app = await build(t, stores(), { REPLICA_ID: 'auth-2', REFRESH_REUSE_GRACE_MS: '0' })
  const user = await registerAndLogin(app)
  const first = await refresh(app, user.login.refreshToken)
  assert.equal(first.statusCode, 200)
  const reuse = await refresh(app, user.login.refreshToken)
  assert.equal(reuse.statusCode, 401)
  const labels = { service: 'auth', replica: 'auth-2' }
  assert.equal(
    await sample(app, 'authlab_revocations_total', { reason: 'refresh-token-reuse', ...labels }),
    1,
  )
  assert.equal(await sample(app, 'authlab_refreshes_total', { outcome: 'ok', ...labels }), 1)
})

test('a store outage that reaches a request is counted as a store error', async (t) => {
  const app = await build(t, stores(), { REPLICA_ID: 'auth-3' })
  const user = await registerAndLogin(app)
  // A Redis that answers nothing: the client is disconnected and has no offline queue. A login
  // needs it first (the login throttle), before its own writes, which have a connection of their own.
  app.redis.disconnect()
  const res = await app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email: user.email, password: PASSWORD },
  })
  assert.equal(res.statusCode, 503)
  assert.ok((await sample(app, 'authlab_store_errors_total', { store: 'redis', replica: 'auth-3' })) >= 1)
})
