import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CSRF_HEADER } from '@authlab/contract'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { build, introspect, PASSWORD, registerAndLogin, sharedStores } from './helper.ts'

const stores = sharedStores()

const bearer = (accessToken: string): InjectOptions => ({
  headers: { authorization: `Bearer ${accessToken}` },
})

interface Issued {
  accessToken: string
  sessionId: string
  refreshToken: string
  user: { id: string }
}

async function login(app: FastifyInstance, email: string, userAgent?: string, remoteAddress?: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email, password: PASSWORD },
    ...(userAgent ? { headers: { 'user-agent': userAgent } } : {}),
    ...(remoteAddress ? { remoteAddress } : {}),
  })
  assert.equal(res.statusCode, 200, res.body)
  return res.json() as Issued
}

interface Listed {
  id: string
  createdAt: string
  lastUsedAt: string
  userAgent: string | null
  address: string | null
  current: boolean
}

async function list(app: FastifyInstance, credential: InjectOptions) {
  const res = await app.inject({ method: 'GET', url: '/auth/sessions', ...credential })
  assert.equal(res.statusCode, 200, res.body)
  return { body: res.body, sessions: (res.json() as { sessions: Listed[] }).sessions }
}

const end = (app: FastifyInstance, credential: InjectOptions, id: string) =>
  app.inject({ method: 'DELETE', url: `/auth/sessions/${id}`, ...credential })

/** The public id of a login, as the listing shows it. */
async function publicIdOf(app: FastifyInstance, l: Issued): Promise<string> {
  const { sessions } = await list(app, bearer(l.accessToken))
  const own = sessions.find((s) => s.current)
  assert.ok(own)
  return own.id
}

async function refused(app: FastifyInstance, l: Issued) {
  const me = await app.inject({ method: 'GET', url: '/auth/me', ...bearer(l.accessToken) })
  return {
    me: me.statusCode,
    access: (await introspect(app, l.accessToken)).json().active as boolean,
    session: (await introspect(app, l.sessionId)).json().active as boolean,
  }
}
const LIVE = { me: 200, access: true, session: true }
const ENDED = { me: 401, access: false, session: false }

test("GET /auth/sessions lists only the caller's live logins, with agent, truncated address, times and current, and no secret", async (t) => {
  const app = await build(t, stores())
  const { email, login: first } = await registerAndLogin(app)
  const phone = await login(app, email, 'PhoneBrowser/1.0', '2001:db8:1:2:3:4:5:6')
  const long = await login(app, email, `Long/${'x'.repeat(1000)}`, '198.51.100.7')
  const gone = await login(app, email)
  await app.inject({ method: 'POST', url: '/auth/logout', ...bearer(gone.accessToken) })
  const stranger = (await registerAndLogin(app)).login

  const { body, sessions } = await list(app, bearer(phone.accessToken))
  assert.equal(sessions.length, 3, 'the logged-out login and the other user are not listed')
  for (const secret of [first, phone, long, gone, stranger].flatMap((l) => [l.sessionId, l.refreshToken])) {
    assert.ok(!body.includes(secret), 'no session id or refresh token')
  }
  const loginIds = await app.pg.query<{ id: string }>('SELECT id FROM logins')
  for (const { id } of loginIds.rows) assert.ok(!body.includes(id), 'not the tokens’ sid either')

  const current = sessions.filter((s) => s.current)
  assert.equal(current.length, 1)
  assert.equal(current[0]!.userAgent, 'PhoneBrowser/1.0')
  assert.equal(current[0]!.address, '2001:db8:1:2::/64')
  const longOne = sessions.find((s) => s.userAgent?.startsWith('Long/'))
  assert.ok(longOne)
  assert.equal(longOne.userAgent!.length, 256)
  assert.equal(longOne.address, '198.51.100.7')
  for (const s of sessions) {
    assert.match(s.id, /^[0-9a-f-]{36}$/)
    assert.ok(Date.parse(s.createdAt) <= Date.parse(s.lastUsedAt) + 1000)
    assert.ok(Date.now() - Date.parse(s.createdAt) < 60_000)
  }
  // Another caller sees its own current login.
  const fromFirst = await list(app, bearer(first.accessToken))
  assert.notEqual(fromFirst.sessions.find((s) => s.current)!.id, current[0]!.id)
  assert.equal((await app.inject({ method: 'GET', url: '/auth/sessions' })).statusCode, 401)
})

test('last_used_at moves on use at most once a minute', async (t) => {
  const app = await build(t, stores())
  const { login: l } = await registerAndLogin(app)
  const lastUsed = async () =>
    (
      await app.pg.query<{ at: Date }>(
        'SELECT last_used_at AS at FROM logins WHERE id = (SELECT id FROM logins ORDER BY created_at DESC LIMIT 1)',
      )
    ).rows[0]!.at.getTime()
  const set = (sql: string) =>
    app.pg.query(
      `UPDATE logins SET last_used_at = ${sql} WHERE id = (SELECT id FROM logins ORDER BY created_at DESC LIMIT 1)`,
    )
  // Used 30 s ago: a use now does not rewrite it.
  await set("now() - interval '30 seconds'")
  const before = await lastUsed()
  await app.inject({ method: 'GET', url: '/auth/me', ...bearer(l.accessToken) })
  await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: l.refreshToken } })
  assert.equal(await lastUsed(), before, 'within the minute: unchanged')

  // A login last used two minutes ago: its first use moves it, the next ones within the minute do not.
  const { login: other } = await registerAndLogin(app)
  await set("now() - interval '2 minutes'")
  const stale = await lastUsed()
  await app.inject({ method: 'GET', url: '/auth/me', ...bearer(other.accessToken) })
  const moved = await lastUsed()
  assert.ok(moved > stale + 60_000, 'moved to now')
  const refreshed = await app.inject({
    method: 'POST',
    url: '/auth/refresh',
    payload: { refreshToken: other.refreshToken },
  })
  assert.equal(refreshed.statusCode, 200)
  await app.inject({ method: 'GET', url: '/auth/sessions', ...bearer(other.accessToken) })
  assert.equal(await lastUsed(), moved, 'not rewritten on every request')
})

test("deleting another user's login or an unknown id answers the same 404 and revokes nothing", async (t) => {
  const app = await build(t, stores())
  const { login: mine } = await registerAndLogin(app)
  const { login: theirs } = await registerAndLogin(app)
  const theirId = await publicIdOf(app, theirs)
  const foreign = await end(app, bearer(mine.accessToken), theirId)
  const unknown = await end(app, bearer(mine.accessToken), '00000000-0000-4000-8000-000000000000')
  assert.equal(foreign.statusCode, 404)
  assert.equal(unknown.statusCode, 404)
  const shape = (body: string) => {
    const { requestId: _, ...rest } = JSON.parse(body)
    return rest
  }
  assert.deepEqual(shape(foreign.body), shape(unknown.body))
  assert.equal(foreign.json().code, 'AUTHLAB_SESSION_NOT_FOUND')
  assert.deepEqual(await refused(app, theirs), LIVE)
  assert.equal((await end(app, bearer(mine.accessToken), 'not-a-uuid')).statusCode, 400)
})

test("deleting one's own other login revokes it (me, introspection, refresh) through the revocation store; the current one keeps working; deleting the current one is a logout", async (t) => {
  const app = await build(t, stores())
  const { email, userId, login: current } = await registerAndLogin(app)
  const other = await login(app, email)
  const otherId = await publicIdOf(app, other)
  const res = await end(app, bearer(current.accessToken), otherId)
  assert.equal(res.statusCode, 204)
  assert.deepEqual(await refused(app, other), ENDED)
  const refresh = await app.inject({
    method: 'POST',
    url: '/auth/refresh',
    payload: { refreshToken: other.refreshToken },
  })
  assert.equal(refresh.statusCode, 401)
  assert.deepEqual(await refused(app, current), LIVE)
  assert.equal((await end(app, bearer(current.accessToken), otherId)).statusCode, 404, 'already ended')
  const { rows } = await app.pg.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM revocations WHERE reason = 'session-end' AND user_id = $1",
    [userId],
  )
  assert.ok(rows[0]!.n >= 1, 'in the revocation log')

  const own = await end(app, bearer(current.accessToken), await publicIdOf(app, current))
  assert.equal(own.statusCode, 204)
  assert.deepEqual(await refused(app, current), ENDED)
  const metrics = (await app.inject('/auth/metrics')).body
  assert.match(metrics, /authlab_revocations_total\{[^}]*reason="session-end"[^}]*\} 2/)
})

test('POST /auth/logout-others ends every other login of the user and keeps the current one', async (t) => {
  const app = await build(t, stores())
  const { email, login: current } = await registerAndLogin(app)
  const others = [await login(app, email), await login(app, email)]
  const { login: stranger } = await registerAndLogin(app)
  const res = await app.inject({ method: 'POST', url: '/auth/logout-others', ...bearer(current.accessToken) })
  assert.equal(res.statusCode, 204)
  for (const other of others) assert.deepEqual(await refused(app, other), ENDED)
  assert.deepEqual(await refused(app, current), LIVE)
  assert.deepEqual(await refused(app, stranger), LIVE, "another user's logins are untouched")
  const { sessions } = await list(app, bearer(current.accessToken))
  assert.deepEqual(
    sessions.map((s) => s.current),
    [true],
  )
  const metrics = (await app.inject('/auth/metrics')).body
  assert.match(metrics, /authlab_revocations_total\{[^}]*reason="logout-others"[^}]*\} 1/)
})

test('a session-cookie caller needs the CSRF header to delete a login or log out the others (403 without, nothing revoked); listing needs none', async (t) => {
  const app = await build(t, stores())
  const { email, login: current } = await registerAndLogin(app)
  const other = await login(app, email)
  const otherId = await publicIdOf(app, other)
  const cookie: InjectOptions = { cookies: { sid: current.sessionId } }
  const withCsrf: InjectOptions = { ...cookie, headers: { [CSRF_HEADER]: '1' } }

  assert.equal((await list(app, cookie)).sessions.length, 2)
  const deleteRefused = await end(app, cookie, otherId)
  assert.equal(deleteRefused.statusCode, 403)
  assert.equal(deleteRefused.json().code, 'AUTHLAB_CSRF_HEADER_MISSING')
  const othersRefused = await app.inject({ method: 'POST', url: '/auth/logout-others', ...cookie })
  assert.equal(othersRefused.statusCode, 403)
  assert.deepEqual(await refused(app, other), LIVE)

  assert.equal((await end(app, withCsrf, otherId)).statusCode, 204)
  assert.deepEqual(await refused(app, other), ENDED)
  const third = await login(app, email)
  const res = await app.inject({ method: 'POST', url: '/auth/logout-others', ...withCsrf })
  assert.equal(res.statusCode, 204)
  assert.deepEqual(await refused(app, third), ENDED)
  assert.deepEqual(await refused(app, current), LIVE)
})

test('the session routes are in the OpenAPI document with their schemas and security', async (t) => {
  const app = await build(t, stores())
  const doc = (await app.inject('/auth/openapi.json')).json()
  const security = [{ bearer: [] }, { sessionCookie: [] }]
  assert.deepEqual(doc.paths['/auth/sessions'].get.security, security)
  assert.deepEqual(doc.paths['/auth/sessions/{id}'].delete.security, security)
  assert.deepEqual(doc.paths['/auth/logout-others'].post.security, security)
  assert.ok(doc.paths['/auth/sessions/{id}'].delete.responses['404'])
})
