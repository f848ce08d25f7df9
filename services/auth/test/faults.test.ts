import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Redis } from 'ioredis'
import {
  build,
  introspect,
  PASSWORD,
  registerAndLogin,
  startStores,
  stopStores,
  uniqueEmail,
  untilRevocationsReady,
} from './helper.ts'

// Each test breaks its own stores, so none shares them.

test('postgres down: register and login answer 503 quickly, readyz says which store is down', async (t) => {
  const stores = await startStores()
  t.after(() => stopStores(stores))
  const app = await build(t, stores)
  const { email } = await registerAndLogin(app)
  await stores.postgres.stop()
  const reg = await app.inject({
    method: 'POST',
    url: '/auth/register',
    payload: { email: uniqueEmail(), password: PASSWORD },
  })
  assert.equal(reg.statusCode, 503)
  assert.equal(reg.json().code, 'AUTHLAB_STORE_UNAVAILABLE')
  assert.match(reg.json().requestId, /\S{8,}/, 'a 503 body carries its requestId too')
  const res = await app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: PASSWORD } })
  assert.equal(res.statusCode, 503)
  const ready = await app.inject('/auth/readyz')
  assert.equal(ready.statusCode, 503)
  assert.deepEqual(ready.json(), { postgres: 'down', redis: 'up', revocations: 'complete' })
})

test('redis down: login answers 503 and leaves no login behind in postgres', async (t) => {
  const stores = await startStores()
  t.after(() => stopStores(stores))
  const app = await build(t, stores)
  const { email, userId } = await registerAndLogin(app)
  const before = (await app.pg.query('SELECT count(*)::int AS n FROM logins WHERE user_id = $1', [userId]))
    .rows[0].n
  await stores.redis.stop()
  const res = await app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: PASSWORD } })
  assert.equal(res.statusCode, 503)
  const afterCount = (
    await app.pg.query('SELECT count(*)::int AS n FROM logins WHERE user_id = $1', [userId])
  ).rows[0].n
  assert.equal(afterCount, before, 'no partial write')
  assert.equal((await app.inject('/auth/readyz')).statusCode, 503)
})

test('redis down: logout answers 503 and the login is not marked revoked in postgres (retry is safe)', async (t) => {
  const stores = await startStores()
  t.after(() => stopStores(stores))
  const app = await build(t, stores)
  const { login } = await registerAndLogin(app)
  await stores.redis.stop()
  const res = await app.inject({
    method: 'POST',
    url: '/auth/logout',
    headers: { authorization: `Bearer ${login.accessToken}` },
  })
  assert.equal(res.statusCode, 503)
  const { rows } = await app.pg.query('SELECT count(*)::int AS n FROM logins WHERE revoked_at IS NOT NULL')
  assert.equal(rows[0].n, 0)
  const log = await app.pg.query('SELECT count(*)::int AS n FROM revocations')
  assert.equal(log.rows[0].n, 0)
  await stores.redis.start()
  for (let i = 0; i < 100 && app.redis.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 50))
  const retry = await app.inject({
    method: 'POST',
    url: '/auth/logout',
    headers: { authorization: `Bearer ${login.accessToken}` },
  })
  assert.equal(retry.statusCode, 204)
})

test('redis restarted with its data lost: revocations are rebuilt from the postgres log, nothing revoked revives', async (t) => {
  const stores = await startStores()
  t.after(() => stopStores(stores))
  const app = await build(t, stores)
  const { login, email } = await registerAndLogin(app)
  const other = await registerAndLogin(app)
  await app.inject({
    method: 'POST',
    url: '/auth/logout',
    headers: { authorization: `Bearer ${login.accessToken}` },
  })
  await app.inject({
    method: 'POST',
    url: '/auth/logout-all',
    headers: { authorization: `Bearer ${other.login.accessToken}` },
  })
  await stores.redis.restart({ wipeData: true })
  // Ready again only once the rebuild has run (bounded wait).
  const ready = await untilRevocationsReady(app)
  assert.ok(ready, 'auth rebuilt the revocation copies and set the marker')
  assert.equal(
    (await introspect(app, login.accessToken)).json().active,
    false,
    'logout survived the data loss',
  )
  assert.equal(
    (await introspect(app, other.login.accessToken)).json().active,
    false,
    'logout-all survived it',
  )
  const [, payload] = other.login.accessToken.split('.')
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
  const otherLogin = { jti: 'another-token', loginId: 'another-login', userId: other.userId }
  assert.ok(
    await app.revocationReader.isRevoked({ ...otherLogin, issuedAt: claims.iat - 1 }),
    'per-user cut-off rebuilt: an earlier token of another login of that user is revoked',
  )
  // Live sessions were only in Redis: they are gone and their owner must log in again.
  const fresh = await app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email, password: PASSWORD },
  })
  assert.equal(fresh.statusCode, 200)
})

test('partial redis data loss (restored from an AOF taken before a logout): auth replays the lost logout from the postgres log', async (t) => {
  const stores = await startStores()
  t.after(() => stopStores(stores))
  const app = await build(t, stores)
  const { login } = await registerAndLogin(app)
  await new Promise((r) => setTimeout(r, 1100)) // everysec: the login is on disk
  const copy = await stores.redis.copyData()
  t.after(() => copy.discard())
  const out = await app.inject({
    method: 'POST',
    url: '/auth/logout',
    headers: { authorization: `Bearer ${login.accessToken}` },
  })
  assert.equal(out.statusCode, 204)
  await stores.redis.restart({ restoreFrom: copy })
  const ready = await untilRevocationsReady(app)
  assert.ok(ready, 'reconciled against the log and marked ready for the restarted process')
  assert.equal(
    await app.credentials.sessionLogin(login.sessionId),
    undefined,
    'the resurrected session was deleted',
  )
  assert.equal(
    (await introspect(app, login.accessToken)).json().active,
    false,
    'the lost deny entry was replayed',
  )
  assert.equal((await introspect(app, login.sessionId)).json().active, false)
})

test('partial redis data loss (restored from an AOF taken before a role change): the rebuild rewrites the session with the roles Postgres holds', async (t) => {
  const stores = await startStores()
  t.after(() => stopStores(stores))
  const app = await build(t, stores)
  const { userId, email } = await registerAndLogin(app)
  await app.permissions.changeRoles(undefined, userId, ['admin'])
  const res = await app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: PASSWORD } })
  const login = res.json()
  assert.deepEqual((await introspect(app, login.sessionId)).json().roles, ['admin'])
  await new Promise((r) => setTimeout(r, 1100)) // everysec: the admin session is on disk
  const copy = await stores.redis.copyData()
  t.after(() => copy.discard())
  await app.permissions.changeRoles(undefined, userId, [])
  assert.deepEqual((await introspect(app, login.sessionId)).json().roles, [], 'rewritten in place')
  await stores.redis.restart({ restoreFrom: copy })
  assert.ok(await untilRevocationsReady(app), 'reconciled and marked ready')
  const after = (await introspect(app, login.sessionId)).json()
  assert.equal(after.active, true, 'the session itself survived the loss')
  assert.deepEqual(after.roles, [], 'not the admin role the lost write had withdrawn')
})

test('keys lost without a restart: a watermark behind the log makes the reconcile rebuild them', async (t) => {
  const stores = await startStores()
  t.after(() => stopStores(stores))
  // Only the explicit reconcile below runs (no reconnect, no timer within the test).
  const app = await build(t, stores, { RECONCILE_INTERVAL_MS: '600000' })
  const { login } = await registerAndLogin(app)
  await app.inject({
    method: 'POST',
    url: '/auth/logout',
    headers: { authorization: `Bearer ${login.accessToken}` },
  })
  // Everything gone but a marker for the running process: only the watermark can tell. (Auth's own
  // Redis user may not FLUSHDB; the admin may.)
  const admin = new Redis(stores.redis.url)
  await admin.flushdb()
  await admin.quit()
  await app.revocationWriter.markReady(app.revocationReader.runId as string)
  const result = await app.reconciler.reconcile()
  assert.equal(result.rebuilt, true)
  assert.equal(result.reason, 'watermark')
  assert.equal((await introspect(app, login.accessToken)).json().active, false)
})

test('postgres dying under a transaction (the rotation timer) does not crash auth; the broken connection is dropped', async (t) => {
  const stores = await startStores()
  t.after(() => stopStores(stores))
  const app = await build(t, stores, {
    KEY_ROTATION_INTERVAL_S: '2',
    JWT_KEY_PUBLISH_DELAY_S: '1',
    KEY_RELOAD_INTERVAL_MS: '100',
  })
  await new Promise((r) => setTimeout(r, 300))
  await stores.postgres.stop()
  await new Promise((r) => setTimeout(r, 1000))
  assert.equal((await app.inject('/auth/healthz')).statusCode, 200, 'still serving')
  assert.equal((await app.inject('/auth/readyz')).statusCode, 503)
  await stores.postgres.start()
  const deadline = Date.now() + 10_000
  let ready = 503
  while (ready !== 200 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100))
    ready = (await app.inject('/auth/readyz')).statusCode
  }
  assert.equal(ready, 200, 'ready again once postgres is back')
  await app.close()
})
