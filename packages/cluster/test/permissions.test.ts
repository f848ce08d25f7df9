import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { MODES, type Mode } from '@authlab/contract'
import { type Cluster, startCluster, UNLIMITED_LOGINS_ENV } from '../src/index.ts'

/*
 * Roles through the gateway, as every replica of a downstream service sees them: GET
 * /orders/<mode>/admin is 200 for an admin and 403 otherwise, and after a role change each mode
 * stops serving the old roles within its bound (docs/modes.md, "a permission change takes
 * effect"): `session` at once (its record is rewritten in place), `session-cached` within its
 * cache TTL, the token modes with a revocation check by the per-user cut-off (the old token is
 * refused and a refresh carries the new roles), and plain `jwt`, the control, until `exp`.
 */

const REPLICAS = 2
const PUSHED_BOUND_MS = 1500
const CACHE_TTL_MS = 1000
/** Modes with a bound for a permission change (ms after the change returned). */
const BOUNDS: Partial<Record<Mode, number>> = {
  session: 0,
  'session-cached': CACHE_TTL_MS,
  'jwt-denylist': 0,
  'jwt-pushed': PUSHED_BOUND_MS,
  introspect: 0,
  // The gateway's cached exchange: the session record, rewritten in place, after the cache TTL.
  phantom: CACHE_TTL_MS,
}
const BOUNDED = Object.keys(BOUNDS) as Mode[]
const COOKIE_MODES: readonly Mode[] = ['session', 'session-cached', 'phantom']
const PASSWORD = 'correct horse battery staple'
const json = { 'content-type': 'application/json' }

let cluster: Cluster
before(async () => {
  cluster = await startCluster({
    replicas: REPLICAS,
    services: ['orders'],
    port: 0,
    env: {
      ...UNLIMITED_LOGINS_ENV,
      PUSHED_MAX_STALENESS_MS: String(PUSHED_BOUND_MS),
      SESSION_CACHE_TTL_MS: String(CACHE_TTL_MS),
      PHANTOM_CACHE_TTL_MS: String(CACHE_TTL_MS),
    },
  })
})
after(() => cluster?.close())

interface Login {
  accessToken: string
  refreshToken: string
  sessionId: string
  user: { id: string }
}

async function register(): Promise<string> {
  const email = `p${Date.now()}-${Math.random().toString(36).slice(2)}@example.test`
  const res = await fetch(`${cluster.url}/auth/register`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ email, password: PASSWORD }),
  })
  assert.equal(res.status, 201)
  return email
}

async function login(email: string): Promise<Login> {
  const body = JSON.stringify({ email, password: PASSWORD })
  const res = await fetch(`${cluster.url}/auth/login`, { method: 'POST', headers: json, body })
  assert.equal(res.status, 200)
  return (await res.json()) as Login
}

/** The admin CLI, as an operator runs it beside auth. */
const adminCli = (...args: string[]) => cluster.admin(...args)

function headers(mode: Mode, l: Login): Record<string, string> {
  return COOKIE_MODES.includes(mode)
    ? { cookie: `sid=${l.sessionId}` }
    : { authorization: `Bearer ${l.accessToken}` }
}

/** `mode`'s admin route asked through the gateway until every replica answered twice (bounded). */
async function acrossReplicas(mode: Mode, l: Login): Promise<Map<string, number[]>> {
  const seen = new Map<string, number[]>()
  for (let i = 0; i < REPLICAS * 8; i++) {
    if (seen.size === REPLICAS && [...seen.values()].every((s) => s.length >= 2)) break
    const res = await fetch(`${cluster.url}/orders/${mode}/admin`, { headers: headers(mode, l) })
    await res.arrayBuffer()
    const replica = res.headers.get('x-replica') ?? 'none'
    seen.set(replica, [...(seen.get(replica) ?? []), res.status])
  }
  return seen
}

async function assertEveryReplica(
  modes: readonly Mode[],
  l: Login,
  expected: readonly number[],
  what: string,
) {
  for (const mode of modes) {
    const seen = await acrossReplicas(mode, l)
    // phantom's refusals come from the gateway (its exchange said 401): no replica is asked.
    const gateway = mode === 'phantom' && seen.size === 1 && seen.has('none')
    if (!gateway) {
      assert.equal(seen.size, REPLICAS, `${what}: ${mode} answered by every replica (${[...seen.keys()]})`)
    }
    for (const status of [...seen.values()].flat()) {
      assert.ok(expected.includes(status), `${what}: ${mode} answered ${status}, expected ${expected}`)
    }
  }
}

async function setRoles(by: Login, userId: string, roles: string[]): Promise<number> {
  const res = await fetch(`${cluster.url}/auth/admin/users/${userId}/roles`, {
    method: 'PUT',
    headers: { ...json, authorization: `Bearer ${by.accessToken}` },
    body: JSON.stringify({ roles }),
  })
  assert.equal(res.status, 200, await res.text())
  return Date.now()
}

async function refreshed(l: Login): Promise<Login> {
  const res = await fetch(`${cluster.url}/auth/refresh`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ refreshToken: l.refreshToken }),
  })
  assert.equal(res.status, 200)
  return { ...l, ...((await res.json()) as Pick<Login, 'accessToken' | 'refreshToken'>) }
}

let boss: Login
async function theAdmin(): Promise<Login> {
  if (boss) return boss
  const email = await register()
  assert.match(await adminCli('roles', email, 'admin'), /roles \[admin\]/)
  boss = await login(email)
  return boss
}

test('GET /orders/<mode>/admin answers 200 for an admin and 403 for anyone else, on every replica, for every mode but none', async () => {
  const boss = await theAdmin()
  const user = await login(await register())
  const modes = MODES.filter((m) => m !== 'none')
  await assertEveryReplica(modes, boss, [200], 'the admin')
  await assertEveryReplica(modes, user, [403], 'a user without roles')
  const none = await fetch(`${cluster.url}/orders/none/admin`)
  assert.equal(none.status, 404, 'none authenticates nobody, so it has no admin route')
})

test('after an admin is demoted, every bounded mode on every replica stops serving the admin role within its bound without logging the user out, while stateless jwt serves it until exp', async () => {
  const boss = await theAdmin()
  const email = await register()
  await adminCli('roles', email, 'admin')
  const l = await login(email)
  await assertEveryReplica([...BOUNDED, 'jwt'], l, [200], 'before the change')
  const changedAt = await setRoles(boss, l.user.id, [])
  const byBound = (Object.entries(BOUNDS) as [Mode, number][]).sort((a, b) => a[1] - b[1])
  for (const [mode, bound] of byBound) {
    await sleep(Math.max(0, changedAt + bound - Date.now()))
    // A session's roles changed in place (403); a token older than the change is cut off (401).
    const expected = COOKIE_MODES.includes(mode) ? [403] : [401]
    await assertEveryReplica([mode], l, expected, `${bound} ms after the change`)
  }
  await assertEveryReplica(['jwt'], l, [200], 'the control: a JWT carries its roles until exp')
  const next = await refreshed(l)
  await assertEveryReplica(
    [...BOUNDED, 'jwt'],
    next,
    [403],
    'after a refresh: the new roles, still logged in',
  )
})

test('after a user is promoted, session sees it at once and a refreshed token carries it in every mode', async () => {
  const boss = await theAdmin()
  const l = await login(await register())
  await assertEveryReplica(['session', 'jwt'], l, [403], 'before')
  await setRoles(boss, l.user.id, ['admin', 'support'])
  await assertEveryReplica(['session'], l, [200], 'at once, in place')
  const next = await refreshed(l)
  await assertEveryReplica([...BOUNDED, 'jwt'], next, [200], 'a refreshed token')
})

test('after a user is disabled, every bounded mode on every replica refuses their credentials within its bound and they cannot log in', async () => {
  const boss = await theAdmin()
  const email = await register()
  await adminCli('roles', email, 'admin')
  const l = await login(email)
  await assertEveryReplica(BOUNDED, l, [200], 'before')
  const res = await fetch(`${cluster.url}/auth/admin/users/${l.user.id}/disable`, {
    method: 'POST',
    headers: { authorization: `Bearer ${boss.accessToken}` },
  })
  assert.equal(res.status, 200)
  const disabledAt = Date.now()
  const byBound = (Object.entries(BOUNDS) as [Mode, number][]).sort((a, b) => a[1] - b[1])
  for (const [mode, bound] of byBound) {
    await sleep(Math.max(0, disabledAt + bound - Date.now()))
    await assertEveryReplica([mode], l, [401], `${bound} ms after disabling`)
  }
  const again = await fetch(`${cluster.url}/auth/login`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ email, password: PASSWORD }),
  })
  assert.equal(again.status, 403)
})
