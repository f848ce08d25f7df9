import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { cookieNames, MODES, type Mode } from '@authlab/contract'
import { Agent, fetch as undiciFetch } from 'undici'

// docker compose up, for real: the images built from infra/docker/Dockerfile, Redis, Postgres and
// nginx from NODE_IMAGE/REDIS_IMAGE/POSTGRES_IMAGE/NGINX_IMAGE (our CI sets them to stand-ins).
const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '../..')
const PROJECT = `authlab-e2e-${process.pid}`
let base = ''
let env: NodeJS.ProcessEnv = {}
// The gateway speaks TLS with the development certificate compose made; trust exactly that one.
let tls: Agent | undefined
const fetch = (url: string, init: Parameters<typeof undiciFetch>[1] = {}) =>
  undiciFetch(url, { ...init, ...(tls ? { dispatcher: tls } : {}) })
const names = cookieNames(true)

async function compose(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', ['compose', '-p', PROJECT, ...args], {
    cwd: ROOT,
    env,
    maxBuffer: 1 << 26,
    timeout: 15 * 60_000,
  })
  return stdout
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/** On a failure, the logs of what failed are the first thing anyone needs. */
async function logsOnFailure<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    const logs = await compose('logs', '--no-color', '--tail', '60').catch((e: Error) => e.message)
    console.error(`--- ${what} failed; docker compose logs ---\n${logs}`)
    throw err
  }
}

before(async () => {
  env = {
    ...process.env,
    GATEWAY_PORT: String(await freePort()),
    ACCESS_TOKEN_TTL_S: '60',
    LOG_LEVEL: 'warn',
  }
  base = `https://127.0.0.1:${env.GATEWAY_PORT}`
  await logsOnFailure('docker compose up', () =>
    compose('up', '-d', '--build', '--wait', '--wait-timeout', '240'),
  )
  const ca = await compose('exec', '-T', 'nginx', 'cat', '/etc/nginx/tls/cert.pem')
  tls = new Agent({ connect: { ca } })
})

after(async () => {
  await tls?.close()
  await compose('--profile', 'observability', 'down', '-v', '--remove-orphans', '--timeout', '5').catch(
    () => {},
  )
})

interface Login {
  accessToken: string
  sessionId: string
}

async function login(): Promise<Login> {
  const body = JSON.stringify({
    email: `e2e-${Date.now()}-${Math.random()}@example.test`,
    password: 'correct horse battery staple',
  })
  const headers = { 'content-type': 'application/json' }
  const reg = await fetch(`${base}/auth/register`, { method: 'POST', headers, body })
  assert.equal(reg.status, 201, await reg.text())
  const res = await fetch(`${base}/auth/login`, { method: 'POST', headers, body })
  assert.equal(res.status, 200)
  return (await res.json()) as Login
}

const credential = (mode: Mode, l: Login): Record<string, string> =>
  mode === 'session' || mode === 'session-cached' || mode === 'phantom'
    ? { cookie: `${names.session}=${l.sessionId}` }
    : { authorization: `Bearer ${l.accessToken}` }

async function get(service: string, mode: Mode, l: Login): Promise<{ status: number; replica: string }> {
  const res = await fetch(`${base}/${service}/${mode}/me`, { headers: credential(mode, l) })
  await res.arrayBuffer()
  return { status: res.status, replica: res.headers.get('x-replica') ?? '' }
}

/** Status codes by replica, requesting until `replicas` distinct replicas answered (or 60 tries). */
async function spread(service: string, mode: Mode, l: Login, replicas: number) {
  const seen = new Map<string, Set<number>>()
  for (let i = 0; i < 60 && seen.size < replicas; i++) {
    const { status, replica } = await get(service, mode, l)
    seen.set(replica, (seen.get(replica) ?? new Set()).add(status))
  }
  return seen
}

/**
 * Bounded wait until auth answers its readyz (Postgres, Redis and the revocation copies complete).
 * readyz is not routed by the gateway, so it is asked from inside the auth container.
 */
async function untilAuthReady(timeoutMs = 20_000): Promise<void> {
  const probe =
    "fetch('http://127.0.0.1:3000/auth/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await compose('exec', '-T', 'auth', 'node', '-e', probe).then(
      () => true,
      () => false,
    )
    if (ok) return
    if (Date.now() > deadline) throw new Error(`auth not ready within ${timeoutMs} ms`)
    await sleep(250)
  }
}

const statuses = (m: Map<string, Set<number>>) => new Set([...m.values()].flatMap((s) => [...s]))

async function logoutAll(l: Login) {
  const res = await fetch(`${base}/auth/logout-all`, {
    method: 'POST',
    headers: { authorization: `Bearer ${l.accessToken}` },
  })
  assert.equal(res.status, 204)
}

/** Steady idempotent requests until stopped; returns every non-200 seen. */
function steady(l: Login) {
  const failures: string[] = []
  let count = 0
  let running = true
  const done = (async () => {
    while (running) {
      for (const service of ['orders', 'profile']) {
        try {
          const { status } = await get(service, 'jwt', l)
          if (status !== 200) failures.push(`${service} ${status}`)
        } catch (err) {
          failures.push(`${service} ${(err as Error).message}`)
        }
        count++
      }
    }
  })()
  return {
    failures,
    count: () => count,
    stop: async () => {
      running = false
      await done
    },
  }
}

test('the k6 service (profile loadtest) mounts loadtest/ and targets the gateway; checked by compose config only, never run', async () => {
  const config = JSON.parse(await compose('--profile', 'loadtest', 'config', '--format', 'json')) as {
    services: Record<
      string,
      {
        image: string
        profiles?: string[]
        environment: Record<string, string>
        volumes: { source: string; target: string }[]
      }
    >
  }
  const k6 = config.services.k6!
  assert.match(k6.image, /^grafana\/k6:/)
  assert.deepEqual(k6.profiles, ['loadtest'])
  assert.equal(k6.environment.BASE_URL, 'https://nginx:8443')
  assert.ok(k6.volumes.some((v) => v.source.endsWith('/loadtest') && v.target === '/scripts'))
  const plain = JSON.parse(await compose('config', '--format', 'json')) as {
    services: Record<string, unknown>
  }
  assert.equal(plain.services.k6, undefined, 'not part of a plain `up`')
})

test('the observability profile: Prometheus (Docker DNS discovery of every service) and Grafana with the dashboard, on 127.0.0.1; checked by compose config only, never run', async () => {
  type Service = {
    image: string
    profiles?: string[]
    ports?: { host_ip: string }[]
    networks?: Record<string, unknown>
    volumes: { source: string; target: string }[]
  }
  const config = JSON.parse(await compose('--profile', 'observability', 'config', '--format', 'json')) as {
    services: Record<string, Service>
  }
  const prometheus = config.services.prometheus!
  const grafana = config.services.grafana!
  for (const s of [prometheus, grafana]) {
    assert.deepEqual(s.profiles, ['observability'])
    assert.ok(
      s.ports?.every((p) => p.host_ip === '127.0.0.1'),
      'published on loopback only',
    )
  }
  assert.ok(prometheus.volumes.some((v) => v.source.endsWith('/infra/prometheus/prometheus.yml')))
  assert.ok(grafana.volumes.some((v) => v.source.endsWith('/infra/grafana/dashboards')))
  assert.ok(grafana.volumes.some((v) => v.source.endsWith('/infra/grafana/provisioning')))
  assert.deepEqual(Object.keys(grafana.networks ?? {}), ['observability'], 'Grafana reaches Prometheus only')
  assert.deepEqual(Object.keys(prometheus.networks ?? {}).sort(), ['default', 'observability'])
  const plain = JSON.parse(await compose('config', '--format', 'json')) as {
    services: Record<string, unknown>
  }
  assert.equal(plain.services.prometheus, undefined, 'not part of a plain `up`')
})

test('the demo page is served by the compose gateway under its own CSP, over TLS', async () => {
  const page = await fetch(`${base}/demo/`)
  assert.equal(page.status, 200)
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/)
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/)
  assert.match(page.headers.get('strict-transport-security') ?? '', /max-age=/)
  assert.match(await page.text(), /<script src="demo.js"/)
  const script = await fetch(`${base}/demo/demo.js`)
  assert.match(script.headers.get('content-type') ?? '', /javascript/)
  await script.arrayBuffer()
  const api = await fetch(`${base}/orders/none/me`)
  assert.match(api.headers.get('content-security-policy') ?? '', /^default-src 'none'/)
  await api.arrayBuffer()
})

test('every container runs with a read-only root (postgres excepted), no capabilities it does not need, no privilege escalation, a memory limit and a 15 s stop grace', async () => {
  const ids = (await compose('ps', '-q')).trim().split('\n').filter(Boolean)
  assert.ok(ids.length >= 9, `containers: ${ids.length}`)
  const { stdout } = await run('docker', ['inspect', ...ids])
  const containers = JSON.parse(stdout) as {
    Name: string
    Config: { StopTimeout?: number; User: string; Labels: Record<string, string> }
    HostConfig: {
      ReadonlyRootfs: boolean
      CapDrop: string[] | null
      CapAdd: string[] | null
      SecurityOpt: string[] | null
      Memory: number
    }
  }[]
  for (const c of containers) {
    const service = c.Config.Labels['com.docker.compose.service']
    // postgres' socket directory needs a writable root (see docker-compose.yml).
    if (service !== 'postgres') assert.equal(c.HostConfig.ReadonlyRootfs, true, `${c.Name} read-only`)
    assert.deepEqual(c.HostConfig.CapDrop, ['ALL'], `${c.Name} drops every capability`)
    assert.ok(c.HostConfig.SecurityOpt?.includes('no-new-privileges:true'), `${c.Name} no-new-privileges`)
    assert.ok(c.HostConfig.Memory > 0, `${c.Name} memory limit`)
    assert.equal(c.Config.StopTimeout, 15, `${c.Name} stop grace`)
    if (['auth', 'orders', 'profile', 'textbook', 'redis'].includes(service ?? '')) {
      assert.equal(c.HostConfig.CapAdd, null, `${c.Name} needs no capability back`)
      assert.ok(
        c.Config.User && c.Config.User !== 'root' && c.Config.User !== '0',
        `${c.Name} runs as ${c.Config.User}`,
      )
    }
  }
})

test('the gateway speaks TLS only (development certificate): HSTS, and Secure __Host-/__Secure- cookies', async () => {
  const plain = await globalThis.fetch(`http://127.0.0.1:${env.GATEWAY_PORT}/gateway/healthz`)
  assert.equal(plain.status, 400, 'plain HTTP on the TLS port is refused')
  await plain.arrayBuffer()
  const body = JSON.stringify({
    email: `tls-${Date.now()}@example.test`,
    password: 'correct horse battery staple',
  })
  const headers = { 'content-type': 'application/json' }
  await (await fetch(`${base}/auth/register`, { method: 'POST', headers, body })).arrayBuffer()
  const res = await fetch(`${base}/auth/login`, { method: 'POST', headers, body })
  assert.equal(res.status, 200)
  await res.arrayBuffer()
  assert.match(res.headers.get('strict-transport-security') ?? '', /max-age=\d+/)
  const cookies = res.headers.getSetCookie()
  for (const name of [names.session, names.access, names.refresh]) {
    const cookie = cookies.find((c) => c.startsWith(`${name}=`))
    assert.ok(cookie, `${name} is set`)
    assert.match(cookie, /; Secure/i, `${name} is Secure`)
  }
})

test('register, login, and every mode of every service accepted, spread over all 3 replicas', async () => {
  await logsOnFailure('modes', async () => {
    const l = await login()
    for (const service of ['orders', 'profile']) {
      for (const mode of MODES) {
        const seen = await spread(service, mode, l, 3)
        assert.equal(seen.size, 3, `${service}/${mode}: ${[...seen.keys()]}`)
        assert.deepEqual(statuses(seen), new Set([200]), `${service}/${mode}`)
      }
    }
  })
})

test('the textbook peer over TLS: login gives a Secure connect.sid cookie and an ES256 token, each accepted on all 3 replicas; after logout the session is refused there and the token is not', async () => {
  await logsOnFailure('textbook', async () => {
    const headers = { 'content-type': 'application/json' }
    const body = JSON.stringify({
      email: `e2e-tb-${Date.now()}-${Math.random()}@example.test`,
      password: 'correct horse battery staple',
    })
    const reg = await fetch(`${base}/auth/register`, { method: 'POST', headers, body })
    assert.equal(reg.status, 201, await reg.text())
    const res = await fetch(`${base}/textbook/login`, { method: 'POST', headers, body })
    assert.equal(res.status, 200, await res.clone().text())
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('connect.sid='))
    // Secure only if textbook believes the gateway's X-Forwarded-Proto (TRUST_PROXY = GATEWAY_IP).
    assert.match(setCookie ?? '', /; Secure/i)
    const { token } = (await res.json()) as { token: string }
    assert.equal(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).alg, 'ES256')
    const cookie = { cookie: setCookie!.split(';')[0]! }
    const bearer = { authorization: `Bearer ${token}` }
    /** Status codes by replica, requesting until 3 replicas answered (or 60 tries). */
    const across = async (path: string, h: Record<string, string>) => {
      const seen = new Map<string, Set<number>>()
      for (let i = 0; i < 60 && seen.size < 3; i++) {
        const r = await fetch(`${base}${path}`, { headers: h })
        await r.arrayBuffer()
        const replica = r.headers.get('x-replica') ?? ''
        seen.set(replica, (seen.get(replica) ?? new Set()).add(r.status))
      }
      assert.equal(seen.size, 3, `${path}: ${[...seen.keys()]}`)
      return statuses(seen)
    }
    assert.deepEqual(await across('/textbook/session/me', cookie), new Set([200]))
    assert.deepEqual(await across('/textbook/jwt/me', bearer), new Set([200]))
    const out = await fetch(`${base}/textbook/logout`, { method: 'POST', headers: cookie })
    assert.equal(out.status, 204)
    assert.deepEqual(await across('/textbook/session/me', cookie), new Set([401]))
    assert.deepEqual(
      await across('/textbook/jwt/me', bearer),
      new Set([200]),
      'the tutorial JWT lives to exp',
    )
  })
})

test('logout-all: session, jwt-denylist and introspect reject at once on every replica, jwt-pushed within its bound', async () => {
  const l = await login()
  await spread('orders', 'jwt-pushed', l, 3)
  await logoutAll(l)
  for (const mode of ['session', 'jwt-denylist', 'introspect'] as const) {
    const seen = await spread('orders', mode, l, 3)
    assert.equal(seen.size, 3)
    assert.deepEqual(statuses(seen), new Set([401]), mode)
  }
  const deadline = Date.now() + 2000
  let seen = await spread('orders', 'jwt-pushed', l, 3)
  while (statuses(seen).has(200) && Date.now() < deadline) seen = await spread('orders', 'jwt-pushed', l, 3)
  assert.deepEqual(statuses(seen), new Set([401]))
})

test('scale orders to 5: the new replicas answer through nginx within seconds, no config change', async () => {
  const l = await login()
  await compose('up', '-d', '--no-recreate', '--wait', '--scale', 'orders=5')
  const started = Date.now()
  let seen = await spread('orders', 'jwt', l, 5)
  while (seen.size < 5 && Date.now() - started < 20_000) {
    await sleep(500)
    seen = await spread('orders', 'jwt', l, 5)
  }
  assert.equal(seen.size, 5, `replicas seen: ${[...seen.keys()]}`)
  console.log(`# 5 orders replicas answered ${Date.now() - started} ms after compose returned`)
})

test('scale orders down to 2 under steady requests: no request fails', async () => {
  await logsOnFailure('scale down', async () => {
    const l = await login()
    const load = steady(l)
    await sleep(500)
    await compose('up', '-d', '--no-recreate', '--wait', '--scale', 'orders=2')
    await sleep(2500)
    await load.stop()
    assert.ok(load.count() > 20)
    assert.deepEqual(load.failures, [])
    assert.equal((await spread('orders', 'jwt', l, 3)).size, 2)
  })
})

test('docker compose restart redis: sessions survive (AOF) and no revoked credential becomes valid', async () => {
  const live = await login()
  const revoked = await login()
  await logoutAll(revoked)
  await compose('restart', 'redis')
  const deadline = Date.now() + 20_000
  let ok = false
  // Until every replica serves the live session again (each reconnects and waits for auth's
  // reconcile on its own); meanwhile no revoked credential may pass anywhere.
  while (!ok && Date.now() < deadline) {
    await sleep(500)
    const seen = statuses(await spread('profile', 'session', live, 3))
    ok = seen.size === 1 && seen.has(200)
    for (const mode of ['session', 'session-cached', 'jwt-denylist', 'jwt-pushed', 'introspect'] as const) {
      assert.ok(
        !statuses(await spread('profile', mode, revoked, 3)).has(200),
        `${mode} accepted a revoked credential`,
      )
    }
  }
  assert.deepEqual(
    statuses(await spread('profile', 'session', live, 3)),
    new Set([200]),
    'the live session survived',
  )
  // The next test logs in: auth must be back on Redis too, not only the replicas.
  await untilAuthReady()
})

test('one replica killed under steady requests: no failed idempotent request', async () => {
  const l = await login()
  const load = steady(l)
  await sleep(500)
  const [victim] = (await compose('ps', '-q', 'profile')).trim().split('\n')
  await run('docker', ['kill', victim as string])
  await sleep(2500)
  await load.stop()
  assert.ok(load.count() > 20)
  assert.deepEqual(load.failures, [])
})

test('the gateway routes no introspection, readiness, metrics or OpenAPI; the introspect mode authenticates as its own client', async () => {
  for (const [method, path] of [
    ['POST', '/auth/introspect'],
    ['GET', '/auth/readyz'],
    ['GET', '/auth/openapi.json'],
    ['GET', '/orders/metrics'],
    ['GET', '/profile/readyz'],
  ] as const) {
    const res = await fetch(`${base}${path}`, { method })
    await res.arrayBuffer()
    assert.equal(res.status, 404, `${method} ${path}`)
  }
  // From inside the network, without the client secret, auth refuses; orders and profile hold theirs.
  const inside = await compose(
    'exec',
    '-T',
    'auth',
    'node',
    '-e',
    "fetch('http://127.0.0.1:3000/auth/introspect',{method:'POST',headers:{'content-type':'application/x-www-form-urlencoded'},body:'token=x'}).then(r=>console.log(r.status,r.headers.get('www-authenticate')))",
  )
  assert.match(inside.trim(), /^401 Basic realm="authlab-introspection"/)
  const l = await login()
  for (const service of ['orders', 'profile']) {
    assert.deepEqual(statuses(await spread(service, 'introspect', l, 2)), new Set([200]), service)
  }
})

test("Redis ACLs: the replicas' user cannot write a session (NOPERM); auth's cannot flush", async () => {
  const cli = (user: string, password: string, ...command: string[]) =>
    compose(
      'exec',
      '-T',
      'redis',
      'redis-cli',
      '--no-auth-warning',
      '--user',
      user,
      '--pass',
      password,
      ...command,
    )
  const downstreamSet = await cli(
    'authlab-downstream',
    'dev-only-redis-downstream-password',
    'SET',
    'authlab:sess:forged',
    'x',
  )
  assert.match(downstreamSet, /NOPERM/)
  const authFlush = await cli('authlab-auth', 'dev-only-redis-auth-password', 'FLUSHALL')
  assert.match(authFlush, /NOPERM/)
  const anonymous = await compose('exec', '-T', 'redis', 'redis-cli', 'GET', 'authlab:{revocations}:ready')
  assert.match(anonymous, /NOAUTH/)
})

// Last but one: it spends the client's per-IP login budget for the rest of the window.
test('a client rotating X-Forwarded-For gets no fresh budget: 50 wrong logins on 50 accounts meet 429 long before 50', async () => {
  const seen: number[] = []
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': `198.51.100.${i + 1}` },
      body: JSON.stringify({ email: `victim${i}-${Date.now()}@example.test`, password: 'not the password' }),
    })
    await res.arrayBuffer()
    seen.push(res.status)
  }
  const first429 = seen.indexOf(429)
  assert.ok(first429 >= 0 && first429 < 25, `first 429 at attempt ${first429 + 1}: ${seen.join(',')}`)
})

test('the observability profile for real: Prometheus finds every replica through Docker DNS and its targets API shows each one up', async (t) => {
  // With stand-in base images (no registry, as here) there is no prom/prometheus to pull: build a
  // stand-in from the REDIS_IMAGE one (Debian) and this machine's Debian prometheus binary, with the
  // official image's interface (the binary as entrypoint, running as nobody). With registry access
  // and no PROMETHEUS_IMAGE, compose pulls its pinned official image.
  let image = process.env.PROMETHEUS_IMAGE
  if (!image && process.env.REDIS_IMAGE?.startsWith('authlab-standin/')) {
    const dir = await mkdtemp(join(tmpdir(), 'authlab-prometheus-image-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    await copyFile('/usr/bin/prometheus', join(dir, 'prometheus'))
    await writeFile(
      join(dir, 'Dockerfile'),
      `FROM ${process.env.REDIS_IMAGE}\nCOPY prometheus /bin/prometheus\nUSER nobody\nENTRYPOINT ["/bin/prometheus"]\n`,
    )
    image = 'authlab-standin/prometheus:debian'
    await run('docker', ['build', '-q', '-t', image, dir], { timeout: 5 * 60_000 })
  }
  const port = await freePort()
  const promEnv = { ...env, ...(image ? { PROMETHEUS_IMAGE: image } : {}), PROMETHEUS_PORT: String(port) }
  const withProfile = (...args: string[]) =>
    run('docker', ['compose', '-p', PROJECT, '--profile', 'observability', ...args], {
      cwd: ROOT,
      env: promEnv,
      timeout: 5 * 60_000,
    })
  await withProfile('up', '-d', '--no-recreate', 'prometheus')
  t.after(() => withProfile('rm', '-sf', 'prometheus').catch(() => {}))
  const expected: Record<string, number> = { auth: 1 }
  for (const service of ['orders', 'profile']) {
    expected[service] = (await compose('ps', '-q', service)).trim().split('\n').filter(Boolean).length
  }
  const deadline = Date.now() + 60_000
  let up: Record<string, number> = {}
  for (;;) {
    const res = await globalThis
      .fetch(`http://127.0.0.1:${port}/api/v1/targets?state=active`)
      .then(
        (r) =>
          r.json() as Promise<{ data: { activeTargets: { labels: { job: string }; health: string }[] } }>,
      )
      .catch(() => undefined)
    up = {}
    for (const target of res?.data.activeTargets ?? []) {
      if (target.health === 'up') up[target.labels.job] = (up[target.labels.job] ?? 0) + 1
    }
    if (Object.entries(expected).every(([job, n]) => up[job] === n)) break
    if (Date.now() > deadline) break
    await sleep(1000)
  }
  assert.deepEqual(up, expected, 'every container of every service scraped and up')
})

test('docker compose down -v leaves no container, network or volume behind', async () => {
  // With the profile, so the observability network an earlier test created goes too.
  await compose('--profile', 'observability', 'down', '-v', '--remove-orphans', '--timeout', '5')
  const filter = `label=com.docker.compose.project=${PROJECT}`
  for (const kind of [
    ['ps', '-a'],
    ['network', 'ls'],
    ['volume', 'ls'],
  ]) {
    const { stdout } = await run('docker', [...kind, '-q', '--filter', filter])
    assert.equal(stdout.trim(), '', `${kind.join(' ')} is empty`)
  }
})
