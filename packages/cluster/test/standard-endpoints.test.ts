import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Mode } from '@authlab/contract'
import { type Cluster, startCluster, UNLIMITED_LOGINS_ENV } from '../src/index.ts'

/*
 * auth's standard endpoints through the gateway, seen by every replica of a downstream service:
 * RFC 7009 revocation (POST /auth/revoke), the password change (POST /auth/password) and ending a
 * login from the sessions list (DELETE /auth/sessions/{id}). A revoked credential must be refused by
 * every mode with a revocation bound, on every replica, once that bound has passed; `jwt`,
 * stateless, is the control that still accepts it.
 */

const REPLICAS = 2
const PUSHED_BOUND_MS = 1500
const CACHE_TTL_MS = 1000
/** Modes with a revocation bound, and the bound (ms after the revoking request returned). */
const BOUNDS: Partial<Record<Mode, number>> = {
  session: 0,
  'session-cached': CACHE_TTL_MS,
  'jwt-denylist': 0,
  'jwt-pushed': PUSHED_BOUND_MS,
  introspect: 0,
}
const BOUNDED = Object.keys(BOUNDS) as Mode[]
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
    },
  })
})
after(() => cluster?.close())

interface Login {
  accessToken: string
  refreshToken: string
  sessionId: string
}

async function register(): Promise<string> {
  const email = `s${Date.now()}-${Math.random().toString(36).slice(2)}@example.test`
  const body = JSON.stringify({ email, password: PASSWORD })
  const res = await fetch(`${cluster.url}/auth/register`, { method: 'POST', headers: json, body })
  assert.equal(res.status, 201)
  return email
}

async function login(email: string): Promise<Login> {
  const body = JSON.stringify({ email, password: PASSWORD })
  const res = await fetch(`${cluster.url}/auth/login`, { method: 'POST', headers: json, body })
  assert.equal(res.status, 200)
  return (await res.json()) as Login
}

function headers(mode: Mode, l: Login): Record<string, string> {
  return mode === 'session' || mode === 'session-cached'
    ? { cookie: `sid=${l.sessionId}` }
    : { authorization: `Bearer ${l.accessToken}` }
}

/**
 * Asks `mode` through the gateway until every replica has answered `perReplica` times: the statuses
 * by replica (bounded: it gives up after a few rounds, and the caller's assertion says who is missing).
 */
async function acrossReplicas(mode: Mode, l: Login, perReplica = 2): Promise<Map<string, number[]>> {
  const seen = new Map<string, number[]>()
  for (let i = 0; i < REPLICAS * perReplica * 4; i++) {
    if (seen.size === REPLICAS && [...seen.values()].every((s) => s.length >= perReplica)) break
    const res = await fetch(`${cluster.url}/orders/${mode}/me`, { headers: headers(mode, l) })
    await res.arrayBuffer()
    const replica = res.headers.get('x-replica') ?? 'none'
    seen.set(replica, [...(seen.get(replica) ?? []), res.status])
  }
  return seen
}

/** Every mode in `modes` answers `expected` on every replica. */
async function assertEveryReplica(modes: readonly Mode[], l: Login, expected: number, what: string) {
  for (const mode of modes) {
    const seen = await acrossReplicas(mode, l)
    assert.equal(seen.size, REPLICAS, `${what}: ${mode} answered by every replica (${[...seen.keys()]})`)
    assert.deepEqual(new Set([...seen.values()].flat()), new Set([expected]), `${what}: ${mode}`)
  }
}

/**
 * After a revocation that returned at `revokedAt`, each bounded mode is asked on every replica once
 * its bound has passed (modes in order of their bounds): every answer must be 401.
 */
async function assertRefusedWithinBounds(l: Login, revokedAt: number) {
  const byBound = (Object.entries(BOUNDS) as [Mode, number][]).sort((a, b) => a[1] - b[1])
  for (const [mode, bound] of byBound) {
    await sleep(Math.max(0, revokedAt + bound - Date.now()))
    await assertEveryReplica([mode], l, 401, `${bound} ms after the revocation`)
  }
}

async function revoke(token: string, hint: string): Promise<number> {
  const res = await fetch(`${cluster.url}/auth/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, token_type_hint: hint }),
  })
  assert.equal(res.status, 200)
  assert.equal(await res.text(), '', 'RFC 7009 §2.2: an empty 200')
  return Date.now()
}

for (const kind of ['access_token', 'refresh_token'] as const) {
  test(`after POST /auth/revoke of ${kind === 'access_token' ? 'an access token' : 'a refresh token'}, every bounded mode on every replica refuses the login's credentials within its bound, while stateless jwt still accepts the token`, async () => {
    const l = await login(await register())
    // Every cache primed (session-cached holds the session for its TTL), and every mode accepts.
    await assertEveryReplica([...BOUNDED, 'jwt'], l, 200, 'before the revocation')
    const revokedAt = await revoke(kind === 'access_token' ? l.accessToken : l.refreshToken, kind)
    await assertRefusedWithinBounds(l, revokedAt)
    await assertEveryReplica(['jwt'], l, 200, 'the control: a JWT alone cannot be revoked')
    const refresh = await fetch(`${cluster.url}/auth/refresh`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ refreshToken: l.refreshToken }),
    })
    assert.equal(refresh.status, 401, 'the refresh family is revoked too')
  })
}

test('after POST /auth/password, every login of the user is refused, the current one included (another by session and jwt-denylist on every replica at once, and by every bounded mode within its bound), while the renewed login it answers works everywhere', async () => {
  const email = await register()
  const current = await login(email)
  const other = await login(email)
  await assertEveryReplica(BOUNDED, other, 200, 'the other login, before the change')
  await assertEveryReplica(BOUNDED, current, 200, 'the current login, before the change')
  const res = await fetch(`${cluster.url}/auth/password`, {
    method: 'POST',
    headers: { ...json, authorization: `Bearer ${current.accessToken}` },
    body: JSON.stringify({ currentPassword: PASSWORD, newPassword: 'a new and longer passphrase' }),
  })
  assert.equal(res.status, 200)
  const changedAt = Date.now()
  const renewed = (await res.json()) as Login
  await assertEveryReplica(['session', 'jwt-denylist'], other, 401, 'the other login, at once')
  await assertRefusedWithinBounds(other, changedAt)
  await assertRefusedWithinBounds(current, changedAt)
  await assertEveryReplica(BOUNDED, renewed, 200, 'the renewed login')
})

test("after DELETE /auth/sessions/{id} of another of the user's logins, every bounded mode on every replica refuses that login within its bound, while the current login still works everywhere", async () => {
  const email = await register()
  const current = await login(email)
  const other = await login(email)
  await assertEveryReplica(BOUNDED, other, 200, 'the other login, before it is ended')
  const listed = await fetch(`${cluster.url}/auth/sessions`, {
    headers: { authorization: `Bearer ${other.accessToken}` },
  })
  assert.equal(listed.status, 200)
  const { sessions } = (await listed.json()) as { sessions: { id: string; current: boolean }[] }
  const id = sessions.find((s) => s.current)?.id
  assert.ok(id, "the other login's public id")
  const res = await fetch(`${cluster.url}/auth/sessions/${id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${current.accessToken}` },
  })
  assert.equal(res.status, 204)
  const endedAt = Date.now()
  await assertRefusedWithinBounds(other, endedAt)
  await assertEveryReplica(BOUNDED, current, 200, 'the current login, kept')
})
