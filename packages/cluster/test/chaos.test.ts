import assert from 'node:assert/strict'
import { globSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Mode } from '@authlab/contract'
import { seeded } from '@authlab/servers'
import { Redis } from 'ioredis'
import { type Cluster, startCluster, UNLIMITED_LOGINS_ENV } from '../src/index.ts'

/*
 * Hunts for lost revocations and stale permissions. A real cluster (3 replicas of each service
 * behind nginx) is driven by a seeded random schedule: logins, revocations (logout, logout-all,
 * refresh-token reuse), role changes (an admin grants and withdraws `admin`) and verifications on
 * every mode and replica (`/me`, and `/admin`, which needs the role), while faults are injected.
 * Every request is recorded with when it started and ended and what it got, every revocation and
 * role change with when it was sent and returned; the checker then asserts that no request started
 * after a revocation returned, plus the mode's stated bound, was accepted, and that no `/admin`
 * request started after a withdrawal returned, plus that bound, was granted (unless a later grant
 * was already under way). Quick form by default (CI); CHAOS_DURATION_S=600 for the long form;
 * CHAOS_SEED replays.
 */

const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000)
const DURATION_MS = Number(process.env.CHAOS_DURATION_S ?? 40) * 1000
const CACHE_TTL_MS = 1000
const PUSHED_BOUND_MS = 1500
const PHANTOM_TTL_MS = 1000
/** The README's mode table, as the checker enforces it: ms after the revocation returned. */
const BOUNDS: Partial<Record<Mode, number>> = {
  session: 0,
  'jwt-denylist': 0,
  introspect: 0,
  'session-cached': CACHE_TTL_MS,
  'jwt-pushed': PUSHED_BOUND_MS,
  phantom: PHANTOM_TTL_MS,
}
const CHECKED = Object.keys(BOUNDS) as Mode[]
/** The control: stateless `jwt` must show acceptances after revocation, or the checker is blind. */
const CONTROL: Mode = 'jwt'
const SERVICES = ['orders', 'profile'] as const
const FAULTS = [
  'redis-kill-9',
  'redis-lose-last-second',
  'redis-restart-empty',
  'pubsub-kill',
  'replica-kill',
  'auth-restart',
  'auth-ttl-change',
  'clock-skew',
] as const
type Fault = (typeof FAULTS)[number]

/**
 * Tokens expire within the run, so deny entries that end too early would show; auth switches
 * between the two lifetimes (a configuration change), and verifiers' clocks disagree by up to the
 * tolerance (libfaketime, whole seconds).
 */
const LONG_TTL_S = 20
const SHORT_TTL_S = 6
const TOLERANCE_S = 2
const LIBFAKETIME = globSync('/usr/lib/*/faketime/libfaketime.so.1')[0]
const skewed = (offsetS: number) => ({
  LD_PRELOAD: LIBFAKETIME ?? '',
  FAKETIME: `${offsetS > 0 ? '+' : ''}${offsetS}`,
  FAKETIME_DONT_FAKE_MONOTONIC: '1',
})

const random = seeded(SEED)
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T

interface LoginRecord {
  userId: string
  loginId: string
  accessToken: string
  refreshToken: string
  sessionId: string
  /** when the login response arrived */
  at: number
}
interface RequestRecord {
  mode: Mode
  route: 'me' | 'admin'
  userId: string
  loginId: string
  start: number
  end: number
  status: number
  replica: string
}
/** An admin's change of a user's roles: `admin` granted or withdrawn. */
interface RoleChange {
  userId: string
  admin: boolean
  sent: number
  returned: number
}
interface RevocationRecord {
  kind: 'logout' | 'logout-all' | 'refresh-reuse'
  loginIds: string[]
  returned: number
}

let cluster: Cluster
let admin: Redis
before(async () => {
  cluster = await startCluster({
    replicas: 3,
    port: 0,
    env: {
      ACCESS_TOKEN_TTL_S: String(LONG_TTL_S),
      JWT_CLOCK_TOLERANCE_S: String(TOLERANCE_S),
      SESSION_CACHE_TTL_MS: String(CACHE_TTL_MS),
      PUSHED_MAX_STALENESS_MS: String(PUSHED_BOUND_MS),
      PHANTOM_CACHE_TTL_MS: String(PHANTOM_TTL_MS),
      REFRESH_REUSE_GRACE_MS: '0',
      RECONCILE_INTERVAL_MS: '500',
      ...UNLIMITED_LOGINS_ENV,
    },
  })
  admin = new Redis(cluster.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  admin.on('error', () => {})
  // One replica per service lags by the whole tolerance from the start: the direction in which a
  // deny entry can end before a verifier stops accepting the token.
  assert.ok(LIBFAKETIME, 'libfaketime is installed (scripts/setup.sh)')
  for (const service of SERVICES) {
    const lagging = cluster.replica(service, 0)
    await lagging.stop()
    await lagging.start({ env: skewed(-TOLERANCE_S) })
  }
  await cluster.waitUntilReady()
})
after(async () => {
  admin?.disconnect()
  await cluster?.close()
})

const json = { 'content-type': 'application/json' }
const PASSWORD = 'correct horse battery staple'

async function post(path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${cluster.url}${path}`, {
    method: 'POST',
    headers: { ...(init.body ? json : {}), ...init.headers },
    ...(init.body ? { body: JSON.stringify(init.body) } : {}),
    signal: AbortSignal.timeout(5000),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined }
}

async function login(email: string): Promise<LoginRecord | undefined> {
  const res = await post('/auth/login', { body: { email, password: PASSWORD } }).catch(() => undefined)
  if (res?.status !== 200) return undefined
  const claims = JSON.parse(Buffer.from(res.body.accessToken.split('.')[1], 'base64url').toString())
  return {
    userId: res.body.user.id,
    loginId: claims.sid,
    accessToken: res.body.accessToken,
    refreshToken: res.body.refreshToken,
    sessionId: res.body.sessionId,
    at: Date.now(),
  }
}

function headersFor(mode: Mode, l: LoginRecord): Record<string, string> {
  return mode === 'session' || mode === 'session-cached' || mode === 'phantom'
    ? { cookie: `sid=${l.sessionId}` }
    : { authorization: `Bearer ${l.accessToken}` }
}

/** The run's summary as a page of docs/results (its lines as written to the console). */
function chaosPage(summary: string): string {
  const [head, revocations, faults, ...table] = summary.split('\n')
  return `# Chaos run: ${head}

What \`CHAOS_DURATION_S=${DURATION_MS / 1000} CHAOS_SEED=${SEED} CHAOS_REPORT=<file> pnpm chaos\` printed on ${new Date().toISOString().slice(0, 10)} (the test and its faults: [revocation.md](../revocation.md#the-chaos-test)).

- ${revocations}
- ${faults}

${table.join('\n')}
`
}

/** The access-token lifetime auth runs with now (auth-restart goes back to the cluster's). */
let authTtlS = LONG_TTL_S

async function inject(fault: Fault): Promise<void> {
  switch (fault) {
    case 'redis-kill-9':
      // A process crash: Redis has written (not necessarily fsynced) every acknowledged write.
      await cluster.redis.kill()
      await sleep(100 + random() * 300)
      await cluster.redis.start()
      break
    case 'redis-lose-last-second': {
      // What appendfsync everysec loses when the machine (not just the process) crashes: the
      // writes of the last second, acknowledged revocations among them. Emulated by restarting
      // Redis from a copy of its AOF taken a moment earlier.
      const copy = await cluster.redis.copyData()
      try {
        await sleep(500 + random() * 700)
        await cluster.redis.restart({ restoreFrom: copy })
      } finally {
        await copy.discard()
      }
      break
    }
    case 'redis-restart-empty':
      await cluster.redis.restart({ wipeData: true })
      break
    case 'pubsub-kill':
      await admin.connect().catch(() => {})
      await admin.client('KILL', 'TYPE', 'pubsub').catch(() => {})
      admin.disconnect()
      break
    case 'replica-kill': {
      const replica = cluster.replica(pick(SERVICES), Math.floor(random() * 3))
      await replica.kill()
      await sleep(200 + random() * 500)
      await replica.start()
      break
    }
    case 'auth-restart':
      await cluster.auth.stop()
      await sleep(200 + random() * 500)
      await cluster.auth.start()
      authTtlS = LONG_TTL_S
      break
    case 'auth-ttl-change':
      // A changed ACCESS_TOKEN_TTL_S: tokens issued under the other lifetime are still out there.
      authTtlS = authTtlS === LONG_TTL_S ? SHORT_TTL_S : LONG_TTL_S
      await cluster.auth.stop()
      await cluster.auth.start({ env: { ACCESS_TOKEN_TTL_S: String(authTtlS) } })
      break
    case 'clock-skew': {
      // A replica restarted with its clock off by up to the tolerance, either way; it keeps it
      // until a replica-kill restarts it with the right time.
      const replica = cluster.replica(pick(SERVICES), Math.floor(random() * 3))
      const offsetS = pick([-TOLERANCE_S, -1, 1, TOLERANCE_S])
      await replica.stop()
      await replica.start({ env: skewed(offsetS) })
      break
    }
  }
}

test(`chaos (seed ${SEED}): no revoked credential is accepted after its mode's bound, whatever fails`, async () => {
  console.log(`chaos seed ${SEED} (replay with CHAOS_SEED=${SEED}), ${DURATION_MS / 1000} s`)
  const users = await Promise.all(
    Array.from({ length: 6 }, async (_, i) => {
      const email = `chaos-${SEED}-${i}@example.test`
      await post('/auth/register', { body: { email, password: PASSWORD } })
      return email
    }),
  )
  const logins: LoginRecord[] = []
  const requests: RequestRecord[] = []
  const revocations: RevocationRecord[] = []
  const faults = Object.fromEntries(FAULTS.map((f) => [f, 0])) as Record<Fault, number>
  for (const email of users) {
    const l = await login(email)
    if (l) logins.push(l)
  }
  // The admin who changes roles: made one with the admin CLI, as an operator would.
  const bossEmail = `chaos-${SEED}-admin@example.test`
  await post('/auth/register', { body: { email: bossEmail, password: PASSWORD } })
  await cluster.admin('roles', bossEmail, 'admin')
  const roleChanges: RoleChange[] = []
  const isAdmin = new Map<string, boolean>()
  const started = Date.now()
  let running = true

  // Verifiers: random credential (revoked ones included), mode and service, all through nginx.
  const verifier = async () => {
    while (running) {
      const l = logins[Math.floor(random() * logins.length)]
      if (!l) {
        await sleep(10)
        continue
      }
      const mode = random() < 0.15 ? CONTROL : pick(CHECKED)
      const service = pick(SERVICES)
      const route = random() < 0.35 ? 'admin' : 'me'
      const start = Date.now()
      const record = { mode, route, userId: l.userId, loginId: l.loginId, start } as const
      try {
        const res = await fetch(`${cluster.url}/${service}/${mode}/${route}`, {
          headers: headersFor(mode, l),
          signal: AbortSignal.timeout(5000),
        })
        await res.arrayBuffer()
        requests.push({
          ...record,
          end: Date.now(),
          status: res.status,
          replica: res.headers.get('x-replica') ?? '-',
        })
      } catch {
        requests.push({ ...record, end: Date.now(), status: 0, replica: '-' })
      }
    }
  }

  // Revoker: logins and revocations of every kind, recorded when they returned.
  const revoker = async () => {
    while (running) {
      await sleep(50 + random() * 150)
      const action = random()
      if (action < 0.4 || logins.length < 3) {
        const l = await login(pick(users))
        if (l) logins.push(l)
        continue
      }
      const target = logins[Math.floor(random() * logins.length)] as LoginRecord
      if (action < 0.52) {
        // A role change by the admin (logged in afresh: its own tokens expire within the run).
        const boss = await login(bossEmail)
        const admin = !isAdmin.get(target.userId)
        const sent = Date.now()
        const res = await fetch(`${cluster.url}/auth/admin/users/${target.userId}/roles`, {
          method: 'PUT',
          headers: { ...json, authorization: `Bearer ${boss?.accessToken}` },
          body: JSON.stringify({ roles: admin ? ['admin'] : [] }),
          signal: AbortSignal.timeout(5000),
        }).catch(() => undefined)
        await res?.arrayBuffer().catch(() => {})
        // Refused (any answer but 200): it did not happen. No answer: it may have, at any time.
        if (res === undefined) roleChanges.push({ userId: target.userId, admin, sent, returned: Infinity })
        if (res?.status === 200) {
          roleChanges.push({ userId: target.userId, admin, sent, returned: Date.now() })
          isAdmin.set(target.userId, admin)
        }
        continue
      }
      if (action < 0.65) {
        const res = await post('/auth/logout', {
          headers: { authorization: `Bearer ${target.accessToken}` },
        }).catch(() => undefined)
        if (res?.status === 204)
          revocations.push({ kind: 'logout', loginIds: [target.loginId], returned: Date.now() })
      } else if (action < 0.85) {
        // Every login of the user whose response arrived before this request was sent.
        const covered = logins.filter((l) => l.userId === target.userId).map((l) => l.loginId)
        const res = await post('/auth/logout-all', {
          headers: { authorization: `Bearer ${target.accessToken}` },
        }).catch(() => undefined)
        if (res?.status === 204)
          revocations.push({ kind: 'logout-all', loginIds: covered, returned: Date.now() })
      } else {
        const first = await post('/auth/refresh', { body: { refreshToken: target.refreshToken } }).catch(
          () => undefined,
        )
        if (first?.status !== 200) continue
        const reuse = await post('/auth/refresh', { body: { refreshToken: target.refreshToken } }).catch(
          () => undefined,
        )
        if (reuse?.status === 401 && reuse.body?.code === 'AUTHLAB_REFRESH_REUSED') {
          revocations.push({ kind: 'refresh-reuse', loginIds: [target.loginId], returned: Date.now() })
        }
      }
    }
  }

  // Faults: one at a time, each followed by a bounded wait for readiness and a calm stretch; every
  // kind comes once per seeded shuffle of the list, so even the quick form injects each of them.
  let deck: Fault[] = []
  const injector = async () => {
    while (running) {
      await sleep(1000 + random() * 1500)
      if (!running) break
      if (deck.length === 0) deck = [...FAULTS].sort(() => random() - 0.5)
      const fault = deck.pop() as Fault
      await inject(fault)
      faults[fault]++
      await cluster.waitUntilReady()
    }
  }

  const workers = [...Array.from({ length: 4 }, verifier), revoker(), injector()]
  await sleep(DURATION_MS)
  running = false
  await Promise.all(workers)
  await cluster.waitUntilReady()

  // The checker.
  const revokedAt = new Map<string, number>()
  for (const r of revocations) {
    for (const id of r.loginIds) revokedAt.set(id, Math.min(revokedAt.get(id) ?? Infinity, r.returned))
  }
  const rows = new Map<
    Mode,
    { requests: number; accepted: number; afterRevocation: number; violations: RequestRecord[] }
  >()
  for (const mode of [...CHECKED, CONTROL])
    rows.set(mode, { requests: 0, accepted: 0, afterRevocation: 0, violations: [] })
  for (const req of requests) {
    const row = rows.get(req.mode)
    if (!row || req.route !== 'me') continue
    row.requests++
    if (req.status === 200) row.accepted++
    const at = revokedAt.get(req.loginId)
    if (at === undefined || req.start <= at + (BOUNDS[req.mode] ?? 0)) continue
    row.afterRevocation++
    if (req.status === 200) row.violations.push(req)
  }
  const permissions = checkPermissions(requests, roleChanges)
  const kinds = (k: RevocationRecord['kind']) => revocations.filter((r) => r.kind === k).length
  const summary = [
    `seed ${SEED} · ${((Date.now() - started) / 1000).toFixed(0)} s · ${requests.length} requests · ${logins.length} logins`,
    `revocations: ${revocations.length} (logout ${kinds('logout')}, logout-all ${kinds('logout-all')}, refresh reuse ${kinds('refresh-reuse')}); role changes: ${roleChanges.length} (admin withdrawn ${roleChanges.filter((c) => !c.admin).length})`,
    `faults: ${FAULTS.map((f) => `${f} ${faults[f]}`).join(', ')}`,
    '| mode | bound | requests | accepted | after revocation + bound | accepted after (violations) | admin requests after withdrawal + bound | admin granted after (violations) |',
    '|---|---|---|---|---|---|---|---|',
    ...[...rows].map(([mode, r]) => {
      const p = permissions.get(mode)
      return `| ${mode}${mode === CONTROL ? ' (control)' : ''} | ${mode === CONTROL ? 'exp' : `${BOUNDS[mode]} ms`} | ${r.requests} | ${r.accepted} | ${r.afterRevocation} | ${r.violations.length} | ${p?.afterWithdrawal ?? 0} | ${p?.violations.length ?? 0} |`
    }),
  ].join('\n')
  console.log(summary)
  // CHAOS_REPORT=<file>: the same summary as a Markdown page, for a run worth publishing.
  if (process.env.CHAOS_REPORT) await writeFile(process.env.CHAOS_REPORT, chaosPage(summary))
  assert.ok(revocations.length >= 5, `revocations were made (${revocations.length})`)
  for (const fault of FAULTS) assert.ok(faults[fault] > 0, `${fault} was injected`)
  for (const mode of CHECKED) {
    const r = rows.get(mode)
    assert.ok(r && r.afterRevocation > 0, `${mode} was probed with revoked credentials`)
    assert.deepEqual(r.violations.slice(0, 5), [], `${mode} accepted a revoked credential (seed ${SEED})`)
  }
  assert.ok(
    (rows.get(CONTROL)?.violations.length ?? 0) > 0,
    'the checker sees the stateless control accept revoked tokens (it is not blind)',
  )
  assert.ok(
    roleChanges.some((c) => !c.admin && c.returned < Infinity),
    'admin was withdrawn at least once',
  )
  const probed = CHECKED.reduce((n, mode) => n + (permissions.get(mode)?.afterWithdrawal ?? 0), 0)
  assert.ok(probed > 0, 'admin routes were asked with withdrawn roles')
  assert.ok(
    (permissions.get(CONTROL)?.violations.length ?? 0) > 0,
    'the checker sees the stateless control serve withdrawn roles (it is not blind)',
  )
  for (const mode of CHECKED) {
    const p = permissions.get(mode)
    assert.deepEqual(
      p?.violations.slice(0, 5),
      [],
      `${mode} served withdrawn roles after its bound (seed ${SEED})`,
    )
  }
})

/**
 * The permission checker. Per user, role changes in the order the (sequential) revoker sent them;
 * one auth answered with anything but 200 did not happen, one without an answer may have, at any
 * time after it was sent. An `/admin` request that started at s and ended at e is checked when the
 * latest change acknowledged before s − bound withdrew `admin` (or there was none: users start
 * without it) and no later change was sent before e; it is a violation if it was granted.
 */
function checkPermissions(requests: RequestRecord[], changes: RoleChange[]) {
  const byUser = new Map<string, RoleChange[]>()
  for (const c of changes) byUser.set(c.userId, [...(byUser.get(c.userId) ?? []), c])
  const result = new Map<Mode, { afterWithdrawal: number; violations: RequestRecord[] }>()
  for (const mode of [...CHECKED, CONTROL]) result.set(mode, { afterWithdrawal: 0, violations: [] })
  for (const req of requests) {
    const row = result.get(req.mode)
    if (!row || req.route !== 'admin') continue
    const bound = BOUNDS[req.mode] ?? 0
    const timeline = byUser.get(req.userId) ?? []
    let settled = -1
    timeline.forEach((c, i) => {
      if (c.returned + bound < req.start) settled = i
    })
    const state = settled >= 0 ? timeline[settled]?.admin : false
    const underWay = timeline.slice(settled + 1).some((c) => c.sent < req.end)
    if (state || underWay) continue
    row.afterWithdrawal++
    if (req.status === 200) row.violations.push(req)
  }
  return result
}
