// The floor under `session` and `jwt-denylist`: what one Redis round trip costs a replica before any
// verification code runs. Two replicas of the real `orders` app (loadtest/src/floor-server.ts, each
// with three extra routes shaped like a mode route) on the servers' core, each saturated by its own
// generator in the same window: one answers `none`, the other a variant, and the ratio of their CPU
// per request is measured as the bench's same-window ratios are (the same core at the same moment,
// so the VM's changing core speed cancels). Variants: `none` (the A/A control), `floor-none` (the
// extra route, awaiting nothing), `floor-raw` (one GET on a bare socket, RESP written by hand),
// `floor-ioredis` (one GET through the replica's own ioredis client), `floor-ioredis-timed` (with
// ioredis' per-command timeout on top), `floor-ioredis-unpipelined` (auto-pipelining off),
// `session`, `jwt-denylist`.
// Which replica carries the variant alternates by repetition; the slot order is shuffled from the seed.
//   node loadtest/src/floor.ts [--repetitions 12] [--seed N]
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startCluster, UNLIMITED_LOGINS_ENV } from '@authlab/cluster'
import { hashSessionId, keys } from '@authlab/revocation'
import { freePort, hasBinary, ManagedProcess, waitUntil } from '@authlab/servers'
import { credentialPool, servicePool } from './credentials.ts'
import { LoadGenerator, type PooledRequest } from './load.ts'
import { bootstrapMedian, seeded, shuffle } from './stats.ts'

const { values } = parseArgs({
  options: { repetitions: { type: 'string', default: '12' }, seed: { type: 'string' } },
})
const repetitions = Number(values.repetitions)
if (!(repetitions >= 2)) throw new Error('--repetitions must be 2 or more')
const seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31)
const WINDOW_S = 0.75
const WARMUP_S = 0.25
/** Per side: each replica has its own generator and connections. */
const CONNECTIONS = 12
const SERVER = join(import.meta.dirname, 'floor-server.ts')

const cluster = await startCluster({
  replicas: 1,
  port: 0,
  env: { ...UNLIMITED_LOGINS_ENV, ACCESS_TOKEN_TTL_S: '3600', LOG_LEVEL: 'warn' },
})
const logDir = await mkdtemp(join(tmpdir(), 'authlab-floor-'))
const replicas: ManagedProcess[] = []
const urls: string[] = []
const generators: LoadGenerator[] = []
try {
  const pool = await credentialPool(cluster.url, 'warm', `floor-${Date.now().toString(36)}`)
  const session = pool.sessions[0]
  if (!session) throw new Error('no session to read')
  // A live session's key: the floor GETs read what `session`'s GETEX reads.
  const floorKey = keys.session(hashSessionId(session.sessionId))

  for (const name of ['floor-a', 'floor-b']) {
    const port = await freePort()
    const proc = new ManagedProcess({
      name,
      command: process.execPath,
      args: ['--disable-warning=FAST_JWT_CACHE_KEY_BUILDER_SECURITY_RISK', SERVER],
      // As the cluster starts its replicas: the same Redis user and URL, auth for the JWKS.
      env: {
        ...process.env,
        ...cluster.topology.envFor('downstream'),
        AUTH_URL: cluster.auth.url,
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        PORT: String(port),
        REPLICA_ID: name,
        FLOOR_KEY: floorKey,
      },
      logFile: join(logDir, `${name}.log`),
    })
    replicas.push(proc)
    await waitUntil(proc, async () => (await fetch(`http://127.0.0.1:${port}/orders/readyz`)).ok)
    urls.push(`http://127.0.0.1:${port}`)
  }

  // As the bench: servers on CPU 0, the generators apart, so their CPU never counts as the servers'.
  const pin = cpus().length >= 2 && hasBinary('taskset')
  if (pin) {
    const pids = [...Object.values(await cluster.pids()).flat(), ...replicas.map((p) => p.pid)]
    for (const pid of pids)
      if (pid > 0) execFileSync('taskset', ['-a', '-p', '-c', '0', String(pid)], { stdio: 'ignore' })
  }
  generators.push(LoadGenerator.start(pin ? '1' : undefined), LoadGenerator.start(pin ? '1' : undefined))

  const floorPool = (variant: string): PooledRequest[] => [
    { path: `/orders/floor/${variant}/me`, headers: {} },
  ]
  const variants: Record<string, PooledRequest[]> = {
    none: servicePool('none', pool, 'orders'),
    'floor-none': floorPool('none'),
    'floor-raw': floorPool('raw'),
    'floor-ioredis': floorPool('ioredis'),
    'floor-ioredis-timed': floorPool('ioredis-timed'),
    'floor-ioredis-unpipelined': floorPool('ioredis-unpipelined'),
    session: servicePool('session', pool, 'orders'),
    'jwt-denylist': servicePool('jwt-denylist', pool, 'orders'),
  }

  interface Side {
    cpuUs: number
    switches: number
    ok: number
  }
  /** One window: `pools[i]` saturates replicas[i] from generators[i], both at once. */
  async function window(pools: [PooledRequest[], PooledRequest[]], durationS: number) {
    const load = () =>
      Promise.all(
        urls.map((u, i) => generators[i]!.saturate(u, pools[i]!, { connections: CONNECTIONS, durationS })),
      )
    await load()
    const cpu = replicas.map((p) => p.cpuTimeMs())
    const switches = replicas.map((p) => p.contextSwitches())
    const redisBefore = (await cluster.cpuTimes()).redis ?? 0
    const results = await load()
    const redisUs = 1000 * (((await cluster.cpuTimes()).redis ?? 0) - redisBefore)
    for (const r of results)
      if (r.non2xx || r.errors) throw new Error(`${r.non2xx} non-2xx, ${r.errors} errors in a window`)
    const sides: Side[] = replicas.map((p, i) => ({
      cpuUs: 1000 * (p.cpuTimeMs() - cpu[i]!),
      switches: p.contextSwitches() - switches[i]!,
      ok: results[i]!.ok,
    }))
    return { sides, redisUs }
  }

  // Everything once first: a fresh process runs interpreted.
  for (const v of Object.values(variants)) await window([v, v], 1)

  const slots = Object.keys(variants)
  const reads = new Map<string, { variant: Side; none: Side; redisUs: number }[]>(slots.map((s) => [s, []]))
  const random = seeded(seed)
  console.log(
    `seed ${seed}, ${repetitions} repetitions of ${WINDOW_S} s windows (after ${WARMUP_S} s of warm-up), two replicas of orders on ${pin ? 'CPU 0' : 'the shared CPUs'}`,
  )
  for (let rep = 0; rep < repetitions; rep++) {
    // The variant's side alternates by repetition, so neither process's own speed favours a variant.
    const v = rep % 2
    for (const slot of shuffle(slots, random)) {
      const pools: [PooledRequest[], PooledRequest[]] =
        v === 0 ? [variants[slot]!, variants.none!] : [variants.none!, variants[slot]!]
      await window(pools, WARMUP_S)
      const { sides, redisUs } = await window(pools, WINDOW_S)
      reads.get(slot)!.push({ variant: sides[v]!, none: sides[1 - v]!, redisUs })
    }
  }

  const f2 = (x: number) => x.toFixed(2)
  const perRequest = (s: Side) => s.cpuUs / s.ok
  console.log('\nmedian [95 % bootstrap interval] over repetitions, each against `none` in the same window')
  console.log(
    `  ${'variant'.padEnd(26)} ${'replica CPU / request vs none'.padEnd(30)} ${'+ Redis CPU vs none'.padEnd(22)} wake-ups / request (variant / none)`,
  )
  for (const slot of slots) {
    const rs = reads.get(slot)!
    const est = (xs: number[]) => {
      const e = bootstrapMedian(xs, seeded(0xf1001))
      return `${f2(e.median)} [${f2(e.lo)}–${f2(e.hi)}]`
    }
    const cpu = est(rs.map((r) => perRequest(r.variant) / perRequest(r.none)))
    // Only the variant's requests reach Redis, so Redis's CPU in the window is theirs.
    const core = est(rs.map((r) => (r.variant.cpuUs + r.redisUs) / r.variant.ok / perRequest(r.none)))
    const wake = (side: 'variant' | 'none') =>
      bootstrapMedian(
        rs.map((r) => r[side].switches / r[side].ok),
        seeded(0xf1002),
      ).median.toFixed(2)
    const added = est(rs.map((r) => perRequest(r.variant) - perRequest(r.none)))
    const noneUs = est(rs.map((r) => perRequest(r.none)))
    console.log(
      `  ${slot.padEnd(26)} ${cpu.padEnd(30)} ${core.padEnd(22)} ${wake('variant')} / ${wake('none')}   +${added} µs (none ${noneUs} µs)`,
    )
  }
} finally {
  for (const g of generators) g.close()
  await Promise.all(replicas.map((p) => p.stop().catch(() => {})))
  await cluster.close()
  await rm(logDir, { recursive: true, force: true })
}
