import assert from 'node:assert/strict'
import { globSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Mode } from '@authlab/contract'
import { type Cluster, type ServiceProcess, startCluster, UNLIMITED_LOGINS_ENV } from '../src/index.ts'

/*
 * Deny entries outlive every token they deny: when the access-token TTL is shortened between a
 * login and its logout, and on a verifier whose clock lags by the whole clock tolerance. A real
 * cluster (2 replicas of orders behind nginx); every revoked credential is tried until it has
 * expired on every clock, not only at the moment of revocation.
 */

const TOLERANCE_S = 3
const TTL_S = 4
const LONGER_TTL_S = 12
const PUSHED_BOUND_MS = 1500
const CACHE_TTL_MS = 1000
/** Modes with a revocation bound, and the bound (ms after the logout returned). */
const BOUNDS: Partial<Record<Mode, number>> = {
  session: 0,
  'session-cached': CACHE_TTL_MS,
  'jwt-denylist': 0,
  'jwt-pushed': PUSHED_BOUND_MS,
  introspect: 0,
}
const PASSWORD = 'correct horse battery staple'
const json = { 'content-type': 'application/json' }

let cluster: Cluster
before(async () => {
  cluster = await startCluster({
    replicas: 2,
    services: ['orders'],
    port: 0,
    env: {
      ...UNLIMITED_LOGINS_ENV,
      ACCESS_TOKEN_TTL_S: String(TTL_S),
      JWT_CLOCK_TOLERANCE_S: String(TOLERANCE_S),
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
  /** the token's `exp`, epoch ms */
  expMs: number
}

async function newLogin(): Promise<Login> {
  const email = `t${Date.now()}-${Math.random().toString(36).slice(2)}@example.test`
  const body = JSON.stringify({ email, password: PASSWORD })
  const registered = await fetch(`${cluster.url}/auth/register`, { method: 'POST', headers: json, body })
  assert.equal(registered.status, 201)
  const res = await fetch(`${cluster.url}/auth/login`, { method: 'POST', headers: json, body })
  assert.equal(res.status, 200)
  const login = (await res.json()) as Omit<Login, 'expMs'>
  const { exp } = JSON.parse(Buffer.from(login.accessToken.split('.')[1]!, 'base64url').toString())
  return { ...login, expMs: exp * 1000 }
}

/** Logs out with the refresh token (no access token presented); resolves when the logout returned. */
async function logout(login: Login): Promise<number> {
  const res = await fetch(`${cluster.url}/auth/logout`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ refreshToken: login.refreshToken }),
  })
  assert.equal(res.status, 204)
  return Date.now()
}

function headers(mode: Mode, login: Login): Record<string, string> {
  return mode === 'session' || mode === 'session-cached'
    ? { cookie: `sid=${login.sessionId}` }
    : { authorization: `Bearer ${login.accessToken}` }
}

async function status(base: string, mode: Mode, login: Login): Promise<number> {
  const res = await fetch(`${base}/orders/${mode}/me`, { headers: headers(mode, login) })
  await res.arrayBuffer()
  return res.status
}

/**
 * Tries the revoked credential in every bounded mode (through `base`, as often as it can) from the
 * logout until `untilMs`, and `jwt` beside them as the control; returns every acceptance past a
 * mode's bound, and when `jwt` last accepted the token.
 */
async function tryRevoked(base: string, login: Login, revokedAt: number, untilMs: number) {
  const violations: string[] = []
  let jwtAcceptedAt = 0
  while (Date.now() < untilMs) {
    for (const [mode, bound] of Object.entries(BOUNDS) as [Mode, number][]) {
      const started = Date.now()
      const got = await status(base, mode, login)
      if (started > revokedAt + bound && got !== 401) {
        violations.push(
          `${mode}: ${got} ${started - revokedAt} ms after logout, ${login.expMs - started} ms before exp`,
        )
      }
    }
    if ((await status(base, 'jwt', login)) === 200) jwtAcceptedAt = Date.now()
    await sleep(100)
  }
  return { violations, jwtAcceptedAt }
}

async function restart(process: ServiceProcess, env?: Record<string, string>): Promise<void> {
  await process.stop()
  await process.start(env ? { env } : {})
  await cluster.waitUntilReady()
}

test('a token issued under a longer ACCESS_TOKEN_TTL_S stays refused after auth restarts with a shorter one, in every mode until its own exp', async () => {
  await restart(cluster.auth, { ACCESS_TOKEN_TTL_S: String(LONGER_TTL_S) })
  const login = await newLogin()
  await restart(cluster.auth)
  assert.equal(await status(cluster.url, 'jwt-denylist', login), 200, 'alive before the logout')
  const revokedAt = await logout(login)
  // Every verifier's clock is past exp + tolerance by then.
  const until = login.expMs + TOLERANCE_S * 1000 + 500
  const { violations, jwtAcceptedAt } = await tryRevoked(cluster.url, login, revokedAt, until)
  assert.deepEqual(violations, [])
  // The control: the token itself was alive long after the current TTL would have ended it.
  assert.ok(
    jwtAcceptedAt > revokedAt + (TTL_S + TOLERANCE_S) * 1000,
    `jwt accepted the token until ${jwtAcceptedAt - revokedAt} ms after the logout`,
  )
})

const libfaketime = globSync('/usr/lib/*/faketime/libfaketime.so.1')[0]

test('a verifier whose clock lags by the clock tolerance refuses a revoked token until its exp by its own clock', async (t) => {
  assert.ok(libfaketime, 'libfaketime is installed (scripts/setup.sh)')
  const lagging = cluster.replica('orders', 1)
  await restart(lagging, {
    LD_PRELOAD: libfaketime,
    FAKETIME: `-${TOLERANCE_S}`,
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  })
  t.after(() => restart(lagging))
  // Right after a second begins, so the token's whole-second exp is as late as it gets.
  await sleep(1000 - (Date.now() % 1000))
  const login = await newLogin()
  const revokedAt = await logout(login)
  // The lagging clock reads exp + tolerance this much later than a true one.
  const until = login.expMs + 2 * TOLERANCE_S * 1000 + 500
  const { violations, jwtAcceptedAt } = await tryRevoked(lagging.url, login, revokedAt, until)
  assert.deepEqual(violations, [])
  // The control: the lagging replica accepted the token after a true clock's exp + tolerance.
  assert.ok(
    jwtAcceptedAt > login.expMs + TOLERANCE_S * 1000,
    `the lagging replica's jwt accepted until ${jwtAcceptedAt - login.expMs} ms after exp`,
  )
})
