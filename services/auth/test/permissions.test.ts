import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { CSRF_HEADER } from '@authlab/contract'
import type { FastifyInstance } from 'fastify'
import { parseAdminArgs } from '../src/admin.ts'
import { build, introspect, PASSWORD, registerAndLogin, sharedStores } from './helper.ts'

const stores = sharedStores()
const ADMIN_CLI = fileURLToPath(new URL('../src/cli/admin.ts', import.meta.url))

const claims = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { roles: unknown }
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** A user made admin through the same code the CLI runs, logged in after it. */
async function admin(app: FastifyInstance) {
  const user = await registerAndLogin(app)
  await app.permissions.changeRoles(undefined, user.userId, ['admin'])
  const res = await app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email: user.email, password: PASSWORD },
  })
  return { ...user, login: res.json() }
}

function setRoles(app: FastifyInstance, token: string, userId: string, roles: unknown) {
  return app.inject({
    method: 'PUT',
    url: `/auth/admin/users/${userId}/roles`,
    headers: bearer(token),
    payload: { roles },
  })
}

async function refresh(app: FastifyInstance, refreshToken: string) {
  return app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken } })
}

test('a login carries the user roles in its access token, its session record and both introspections', async (t) => {
  const app = await build(t, stores())
  const { userId } = await registerAndLogin(app)
  await app.permissions.changeRoles(undefined, userId, ['auditor', 'admin', 'auditor'])
  const { rows } = await app.pg.query<{ email: string }>('SELECT email FROM users WHERE id = $1', [userId])
  const login = (
    await app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: rows[0]?.email, password: PASSWORD },
    })
  ).json()
  assert.deepEqual(claims(login.accessToken).roles, ['admin', 'auditor'], 'sorted, duplicates dropped')
  assert.deepEqual((await introspect(app, login.accessToken)).json().roles, ['admin', 'auditor'])
  assert.deepEqual((await introspect(app, login.sessionId)).json().roles, ['admin', 'auditor'])
  assert.deepEqual((await app.revocationReader.readSession(login.sessionId))?.roles, ['admin', 'auditor'])
})

test('a role change rewrites live sessions in place, cuts off older access tokens without a logout, and the refresh carries the new roles', async (t) => {
  const app = await build(t, stores())
  const boss = await admin(app)
  const { userId, login } = await registerAndLogin(app)
  const res = await setRoles(app, boss.login.accessToken, userId, ['editor'])
  assert.equal(res.statusCode, 200, res.body)
  assert.deepEqual(res.json(), { userId, roles: ['editor'], sessions: 1 })
  const session = (await introspect(app, login.sessionId)).json()
  assert.equal(session.active, true, 'the session stays logged in')
  assert.deepEqual(session.roles, ['editor'], 'with the new roles, at once')
  assert.equal((await introspect(app, login.accessToken)).json().active, false, 'the old token is cut off')
  const renewed = await refresh(app, login.refreshToken)
  assert.equal(renewed.statusCode, 200, 'the refresh token still works')
  const next = renewed.json().accessToken as string
  assert.deepEqual(claims(next).roles, ['editor'])
  const active = (await introspect(app, next)).json()
  assert.equal(active.active, true, 'a token issued after the change, even in its second, is not cut off')
  assert.deepEqual(active.roles, ['editor'])
})

test('refreshes racing a role change never yield a live token with the old roles', async (t) => {
  const app = await build(t, stores())
  const boss = await admin(app)
  const { userId, email } = await registerAndLogin(app)
  const logins = await Promise.all(
    Array.from({ length: 4 }, async () =>
      (
        await app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: PASSWORD } })
      ).json(),
    ),
  )
  const issued: string[] = []
  let changed = false
  // Each chain refreshes before, during and after the change: until it returned, then twice more.
  const chains = logins.map(async (l) => {
    let token = l.refreshToken as string
    for (let after = 0; after < 2; after += changed ? 1 : 0) {
      const r = await refresh(app, token)
      assert.equal(r.statusCode, 200, r.body)
      token = r.json().refreshToken
      issued.push(r.json().accessToken)
    }
  })
  const change = (async () => {
    await new Promise((r) => setTimeout(r, 30))
    assert.equal((await setRoles(app, boss.login.accessToken, userId, ['editor'])).statusCode, 200)
    changed = true
  })()
  await Promise.all([...chains, change])
  assert.ok(changed)
  let old = 0
  for (const token of issued) {
    const answer = (await introspect(app, token)).json()
    if (answer.active) assert.deepEqual(answer.roles, ['editor'], 'a live token carries the new roles')
    else old++
  }
  assert.ok(old < issued.length, 'tokens issued after the change are live')
})

test('the admin routes need the admin role as Postgres holds it now: a demoted admin is refused at once; bad roles are a 400', async (t) => {
  const app = await build(t, stores())
  const boss = await admin(app)
  const other = await registerAndLogin(app)
  assert.equal(
    (await setRoles(app, other.login.accessToken, boss.userId, [])).statusCode,
    403,
    'not an admin',
  )
  for (const roles of [
    ['Admin'],
    ['a b'],
    ['x'.repeat(40)],
    Array.from({ length: 17 }, (_, i) => `r${i}`),
    'admin',
  ]) {
    assert.equal(
      (await setRoles(app, boss.login.accessToken, other.userId, roles)).statusCode,
      400,
      JSON.stringify(roles),
    )
  }
  const unknown = await setRoles(app, boss.login.accessToken, '00000000-0000-4000-8000-000000000000', [])
  assert.equal(unknown.statusCode, 404)
  const second = await admin(app)
  assert.equal((await setRoles(app, second.login.accessToken, boss.userId, [])).statusCode, 200, 'demoted')
  // boss' access token still says admin; the route reads the role from Postgres, not from it.
  assert.deepEqual(claims(boss.login.accessToken).roles, ['admin'])
  const refused = await setRoles(app, boss.login.accessToken, other.userId, ['admin'])
  assert.equal(refused.statusCode, 403)
  assert.equal(refused.json().code, 'AUTHLAB_FORBIDDEN')
  const cookie = await app.inject({
    method: 'PUT',
    url: `/auth/admin/users/${other.userId}/roles`,
    cookies: { sid: second.login.sessionId },
    payload: { roles: [] },
  })
  assert.equal(cookie.statusCode, 403, 'a cookie caller without the CSRF header is refused')
  assert.equal(cookie.json().code, 'AUTHLAB_CSRF_HEADER_MISSING')
  const withProof = await app.inject({
    method: 'PUT',
    url: `/auth/admin/users/${other.userId}/roles`,
    cookies: { sid: second.login.sessionId },
    headers: { [CSRF_HEADER]: '1' },
    payload: { roles: [] },
  })
  assert.equal(withProof.statusCode, 200)
})

test('an admin demoted while their own re-grant is on its way stays demoted: the admin check runs in the change, not before it', async (t) => {
  const app = await build(t, stores())
  const boss = await admin(app)
  for (let round = 0; round < 8; round++) {
    const rogue = await admin(app)
    const regrants = Array.from({ length: 4 }, () =>
      setRoles(app, rogue.login.accessToken, rogue.userId, ['admin', 'x']),
    )
    const demoted = await setRoles(app, boss.login.accessToken, rogue.userId, [])
    assert.equal(demoted.statusCode, 200)
    for (const r of await Promise.all(regrants)) assert.ok([200, 403].includes(r.statusCode), r.body)
    const { rows } = await app.pg.query<{ roles: string[] }>('SELECT roles FROM users WHERE id = $1', [
      rogue.userId,
    ])
    // A re-grant either committed before the demotion (which then replaced it) or was refused.
    if (rows[0]?.roles.includes('admin')) {
      const again = await setRoles(app, boss.login.accessToken, rogue.userId, [])
      assert.fail(`round ${round}: the demotion was undone (${again.statusCode})`)
    }
  }
})

test('an admin cannot withdraw their own admin role or disable themselves through the API (409)', async (t) => {
  const app = await build(t, stores())
  const boss = await admin(app)
  const self = await setRoles(app, boss.login.accessToken, boss.userId, ['support'])
  assert.equal(self.statusCode, 409)
  assert.equal(self.json().code, 'AUTHLAB_SELF_LOCKOUT')
  assert.equal(
    (await setRoles(app, boss.login.accessToken, boss.userId, ['admin', 'support'])).statusCode,
    200,
  )
  const disable = await app.inject({
    method: 'POST',
    url: `/auth/admin/users/${boss.userId}/disable`,
    headers: bearer(boss.login.accessToken),
  })
  assert.equal(disable.statusCode, 409)
})

test('an unauthenticated admin request is a 401 before its body or parameters are judged', async (t) => {
  const app = await build(t, stores())
  const res = await app.inject({
    method: 'PUT',
    url: '/auth/admin/users/not-a-uuid/roles',
    payload: { roles: 'x' },
  })
  assert.equal(res.statusCode, 401)
})

test('disabling a user revokes every login and refuses login and refresh; enabling lets them log in again', async (t) => {
  const app = await build(t, stores())
  const boss = await admin(app)
  const { userId, email, login } = await registerAndLogin(app)
  const disable = await app.inject({
    method: 'POST',
    url: `/auth/admin/users/${userId}/disable`,
    headers: bearer(boss.login.accessToken),
  })
  assert.equal(disable.statusCode, 200, disable.body)
  assert.deepEqual(disable.json(), { userId, disabled: true, revoked: 1 })
  assert.equal((await introspect(app, login.accessToken)).json().active, false)
  assert.equal((await introspect(app, login.sessionId)).json().active, false)
  assert.equal((await refresh(app, login.refreshToken)).statusCode, 401)
  const right = await app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email, password: PASSWORD },
  })
  assert.equal(right.statusCode, 403)
  assert.equal(right.json().code, 'AUTHLAB_ACCOUNT_DISABLED')
  const wrong = await app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email, password: 'wrong password!' },
  })
  assert.equal(wrong.statusCode, 401, 'the state is told only after the right password')
  const enable = await app.inject({
    method: 'POST',
    url: `/auth/admin/users/${userId}/enable`,
    headers: bearer(boss.login.accessToken),
  })
  assert.equal(enable.statusCode, 200)
  const again = await app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email, password: PASSWORD },
  })
  assert.equal(again.statusCode, 200)
  assert.equal((await introspect(app, login.sessionId)).json().active, false, 'nothing revoked comes back')
})

test('parseAdminArgs: roles, disable or enable with an email; anything else is a usage error', () => {
  assert.deepEqual(parseAdminArgs(['roles', 'a@b.c', 'admin', 'ops']), {
    command: 'roles',
    email: 'a@b.c',
    roles: ['admin', 'ops'],
  })
  assert.deepEqual(parseAdminArgs(['roles', 'a@b.c']), { command: 'roles', email: 'a@b.c', roles: [] })
  assert.deepEqual(parseAdminArgs(['disable', 'a@b.c']), { command: 'disable', email: 'a@b.c' })
  assert.deepEqual(parseAdminArgs(['--help']), { command: 'help' })
  for (const bad of [
    [],
    ['roles'],
    ['promote', 'a@b.c'],
    ['disable', 'a@b.c', 'x'],
    ['--nope'],
    ['roles', 'a@b.c', 'Admin'],
  ]) {
    assert.throws(() => parseAdminArgs(bad), { name: 'AdminUsageError' }, JSON.stringify(bad))
  }
})

test('the admin CLI changes roles and disables a user as the routes do; exit 2 on bad arguments, 1 on an unknown user', async (t) => {
  const app = await build(t, stores())
  const { email, userId, login } = await registerAndLogin(app)
  const env = {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: stores().postgres.url,
    REDIS_URL: stores().redis.urlFor('auth'),
    LOG_LEVEL: 'silent',
  }
  const run = async (args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [ADMIN_CLI, ...args], {
        env,
        timeout: 30_000,
      })
      return { code: 0, stdout, stderr }
    } catch (err) {
      const { code, stdout, stderr } = err as { code?: number; stdout: string; stderr: string }
      return { code: code ?? -1, stdout, stderr }
    }
  }
  const roles = await run(['roles', email, 'admin'])
  assert.equal(roles.code, 0, roles.stderr)
  assert.match(roles.stdout, /roles \[admin\], 1 live session\(s\) rewritten/)
  assert.deepEqual((await introspect(app, login.sessionId)).json().roles, ['admin'])
  const disabled = await run(['disable', email])
  assert.equal(disabled.code, 0, disabled.stderr)
  assert.equal((await introspect(app, login.sessionId)).json().active, false)
  const { rows } = await app.pg.query('SELECT 1 FROM users WHERE id = $1 AND disabled_at IS NOT NULL', [
    userId,
  ])
  assert.equal(rows.length, 1)
  assert.equal((await run(['promote', email])).code, 2)
  const unknown = await run(['enable', 'nobody@example.test'])
  assert.equal(unknown.code, 1)
  assert.match(unknown.stderr, /no user/)
})
