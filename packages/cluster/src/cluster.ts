import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { DOWNSTREAM_SERVICES, type RedisMode } from '@authlab/contract'
import {
  freePort,
  ManagedProcess,
  type NginxServer,
  type PostgresServer,
  processTree,
  type RedisServer,
  type RedisTopology,
  type ScrapeJob,
  standaloneTopology,
  startNginx,
  startPostgres,
  startRedis,
  startRedisTopology,
  waitUntil,
} from '@authlab/servers'
import { BYTES_LOG, GATEWAY_STATIC_DIRS, type GatewayLayout, renderGatewayConfig } from './gateway.ts'
import { peerSecrets } from './peers.ts'

/**
 * A service's entry point, found through its package's manifest (`@authlab/<service>/server`, a
 * dependency of this package) rather than a path into the checkout.
 */
export function serviceEntry(service: string): string {
  try {
    return fileURLToPath(import.meta.resolve(`@authlab/${service}/server`))
  } catch (err) {
    throw new Error(
      `no entry point for service ${JSON.stringify(service)}: @authlab/${service} must be a dependency of @authlab/cluster exporting ./server`,
      { cause: err },
    )
  }
}

export { DOWNSTREAM_SERVICES }

/**
 * For load tools and tests that log in many users from one address (127.0.0.1): every login limit,
 * auth's and the gateway's, out of the way. Never for a cluster anyone else reaches.
 */
export const UNLIMITED_LOGINS_ENV: Readonly<Record<string, string>> = {
  LOGIN_RATE_LIMIT_PER_IP: '1000000',
  LOGIN_RATE_LIMIT_PER_ACCOUNT: '1000000',
  LOGIN_RATE_LIMIT_PER_ACCOUNT_IP: '1000000',
  GATEWAY_LOGIN_RATE: '1000000r/s',
  GATEWAY_LOGIN_BURST: '1000000',
}

export interface ClusterOptions {
  /** Replicas of each downstream service. */
  replicas?: number
  /** Gateway port; 0 picks a free one. */
  port?: number
  services?: readonly string[]
  /**
   * Peer services to start beside them, as many replicas each (PEER_SERVICES: `textbook`, the
   * tutorial baseline of services/textbook). Default: none; the gateway routes them anyway (502).
   * textbook connects to Redis as its own ACL user and reads auth's users table as DATABASE_URL's
   * role; its ES256 key and session secret are made for this cluster (peerSecrets). Standalone
   * Redis only: the tutorial code reads REDIS_URL and nothing else.
   */
  peers?: readonly string[]
  /**
   * Where the shared state lives: one Redis (default), a primary with 2 replicas and 3 sentinels,
   * or a Redis Cluster of 3 primaries with a replica each (REDIS_MODE).
   */
  redisMode?: RedisMode
  /** Environment for every service process (same variable names as the code and compose). */
  env?: Record<string, string>
  /**
   * Where the replicas reach Redis and auth: given each target, answers the address they use
   * instead (the bench puts a network delay there). Default: the target itself.
   */
  downstreamRoute?: (target: { name: 'redis' | 'auth'; host: string; port: number }) => Promise<{
    host: string
    port: number
  }>
  onProgress?: (message: string) => void
}

/** One node service process on its own port; can be stopped and started again on that port. */
export class ServiceProcess {
  readonly service: string
  readonly replica: string
  readonly port: number
  readonly #env: Record<string, string | undefined>
  readonly #logFile: string
  readonly #entry: string
  #proc: ManagedProcess | undefined

  /** `env` is laid over this process's own environment; an undefined value removes a variable. */
  constructor(
    service: string,
    replica: string,
    port: number,
    env: Record<string, string | undefined>,
    logDir: string,
  ) {
    this.service = service
    this.replica = replica
    this.port = port
    this.#env = env
    this.#logFile = join(logDir, `${replica}.log`)
    this.#entry = serviceEntry(service)
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /**
   * Runs one of the service's commands (`entry`, e.g. auth's admin CLI) to completion, in this
   * process's environment, as an operator would beside it; resolves with what it printed.
   */
  async command(entry: string, args: readonly string[]): Promise<string> {
    const { stdout } = await promisify(execFile)(process.execPath, [entry, ...args], {
      env: { ...process.env, ...this.#env },
      timeout: 30_000,
    })
    return stdout
  }

  get running(): boolean {
    return this.#proc?.running ?? false
  }

  pid(): number {
    return this.#proc?.running ? this.#proc.pid : -1
  }

  cpuTimeMs(): number {
    return this.#proc?.running ? this.#proc.cpuTimeMs() : 0
  }

  /** the event loop's context switches so far (see mainThreadContextSwitches); 0 when stopped */
  contextSwitches(): number {
    return this.#proc?.running ? this.#proc.contextSwitches() : 0
  }

  /**
   * Starts the process on its port. `env` is laid over its own environment for this start only
   * (a restart with another configuration, a clock offset); the next start without it uses the
   * original again.
   */
  async start(opts: { env?: Record<string, string> } = {}): Promise<void> {
    if (this.running) return
    this.#proc = new ManagedProcess({
      name: this.replica,
      command: process.execPath,
      // @authlab/verify keys fast-jwt's cache by the whole token, which fast-jwt warns about for any
      // custom key; the reason is in packages/verify/src/core.ts. The image starts the same way.
      args: ['--disable-warning=FAST_JWT_CACHE_KEY_BUILDER_SECURITY_RISK', this.#entry],
      env: {
        ...process.env,
        ...this.#env,
        ...opts.env,
        PORT: String(this.port),
        HOST: '127.0.0.1',
        REPLICA_ID: this.replica,
      },
      logFile: this.#logFile,
    })
    const probe = this.service === 'auth' ? '/auth/readyz' : `/${this.service}/healthz`
    // The answer must come from this replica: another process on the port (one that got it first)
    // would otherwise pass for this one while it died on EADDRINUSE.
    await waitUntil(
      this.#proc,
      async () => {
        const res = await fetch(`${this.url}${probe}`)
        await res.arrayBuffer()
        const who = res.headers.get('x-replica')
        return res.ok && (who === null || who === this.replica)
      },
      30_000,
    )
  }

  /** SIGTERM: a graceful shutdown that drains in-flight requests. */
  async stop(): Promise<void> {
    await this.#proc?.stop('SIGTERM')
  }

  /** SIGKILL: a crash. */
  async kill(): Promise<void> {
    await this.#proc?.kill()
  }

  tail(lines = 30): string {
    return this.#proc?.tail(lines) ?? ''
  }
}

export class Cluster {
  readonly url: string
  /** Every Redis node and how services reach them (REDIS_MODE). */
  readonly topology: RedisTopology
  /** The Redis server; in sentinel or cluster mode the first node (see `topology` for the others). */
  readonly redis: RedisServer
  readonly postgres: PostgresServer
  readonly nginx: NginxServer
  readonly auth: ServiceProcess
  readonly replicas: ReadonlyMap<string, ServiceProcess[]>
  /** The peers' replicas (ClusterOptions.peers), kept apart: they serve no verification mode. */
  readonly peers: ReadonlyMap<string, ServiceProcess[]>
  readonly logDir: string
  readonly #gatewayListen: string
  readonly #gatewayLimits: Pick<GatewayLayout, 'loginRate' | 'loginBurst' | 'trustedProxies'>
  readonly #bytesListen: string
  /**
   * The gateway's second loopback listener (`url`) and the file where nginx writes, for its requests
   * only, the bytes each read and sent (the template's `authlab_bytes` format).
   */
  readonly bytesLog: { url: string; path: string }
  #active: number

  constructor(parts: {
    gatewayListen: string
    gatewayLimits: Pick<GatewayLayout, 'loginRate' | 'loginBurst' | 'trustedProxies'>
    bytesListen: string
    url: string
    topology: RedisTopology
    postgres: PostgresServer
    nginx: NginxServer
    auth: ServiceProcess
    replicas: Map<string, ServiceProcess[]>
    peers?: Map<string, ServiceProcess[]>
    logDir: string
  }) {
    this.url = parts.url
    this.topology = parts.topology
    this.redis = parts.topology.nodes[0]!
    this.postgres = parts.postgres
    this.nginx = parts.nginx
    this.auth = parts.auth
    this.replicas = parts.replicas
    this.peers = parts.peers ?? new Map()
    this.logDir = parts.logDir
    this.#gatewayListen = parts.gatewayListen
    this.#gatewayLimits = parts.gatewayLimits
    this.#bytesListen = parts.bytesListen
    this.bytesLog = { url: `http://${parts.bytesListen}`, path: join(parts.nginx.dir, BYTES_LOG) }
    this.#active = Math.max(...[...parts.replicas.values()].map((l) => l.length), 0)
  }

  /** How many replicas of each service nginx currently routes to. */
  /** auth's admin CLI (`roles`, `disable`, `enable`; see services/auth/src/admin.ts) against this cluster. */
  admin(...args: string[]): Promise<string> {
    return this.auth.command(fileURLToPath(import.meta.resolve('@authlab/auth/admin')), args)
  }

  get activeReplicas(): number {
    return this.#active
  }

  /** Every replica process: the downstream services' and the peers'. */
  #all(): ServiceProcess[] {
    return [...this.replicas.values(), ...this.peers.values()].flat()
  }

  /**
   * Routes the gateway to the first `count` replicas of each service, peers included (a graceful
   * nginx reload; the others keep running, idle), so a replica sweep needs no restart.
   */
  async setActiveReplicas(count: number): Promise<void> {
    const config = await renderGatewayConfig({
      listen: this.#gatewayListen,
      auth: [`127.0.0.1:${this.auth.port}`],
      upstreams: Object.fromEntries(
        [...this.replicas, ...this.peers].map(([s, list]) => [
          s,
          list.slice(0, count).map((p) => `127.0.0.1:${p.port}`),
        ]),
      ),
      ...this.#gatewayLimits,
      bytesListen: this.#bytesListen,
    })
    await this.nginx.reload(config)
    this.#active = count
    // Old workers finish their connections; give the new ones a moment to take over.
    await sleep(300)
  }

  /**
   * Resolves once auth and every replica answer their readyz (a bounded wait, for tests and tools
   * that follow a fault); rejects naming the first that did not within `timeoutMs`.
   */
  async waitUntilReady(timeoutMs = 20_000): Promise<void> {
    const probes = [`${this.auth.url}/auth/readyz`, ...this.#all().map((r) => `${r.url}/${r.service}/readyz`)]
    const deadline = Date.now() + timeoutMs
    for (const url of probes) {
      while (
        !(await fetch(url).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        if (Date.now() > deadline) throw new Error(`not ready within ${timeoutMs} ms: ${url}`)
        await sleep(50)
      }
    }
  }

  /** What Prometheus scrapes: auth and every replica, each service on its own metrics path. */
  scrapeJobs(): ScrapeJob[] {
    return [
      { job: 'auth', metricsPath: '/auth/metrics', targets: [`127.0.0.1:${this.auth.port}`] },
      ...[...this.replicas].map(([service, list]) => ({
        job: service,
        metricsPath: `/${service}/metrics`,
        targets: list.map((r) => `127.0.0.1:${r.port}`),
      })),
    ]
  }

  /** Every OS process of the cluster by role (for CPU pinning or limits). */
  async pids(): Promise<Record<string, number[]>> {
    const result: Record<string, number[]> = {
      redis: [this.redis.pid()],
      postgres: await processTree(this.postgres.pid()),
      nginx: await processTree(this.nginx.pid()),
      auth: [this.auth.pid()],
    }
    for (const r of this.#all()) result[r.replica] = [r.pid()]
    return result
  }

  replica(service: string, index: number): ServiceProcess {
    const replica = (this.replicas.get(service) ?? this.peers.get(service))?.[index]
    if (!replica) throw new Error(`no replica ${index} of ${service}`)
    return replica
  }

  /** CPU time (ms) of every process by name, for cost-per-request accounting. */
  async cpuTimes(): Promise<Record<string, number>> {
    const times: Record<string, number> = {
      redis: (await Promise.all(this.topology.nodes.map((n) => n.cpuTimeMs()))).reduce((a, b) => a + b, 0),
      postgres: await this.postgres.cpuTimeMs(),
      nginx: await this.nginx.cpuTimeMs(),
      auth: this.auth.cpuTimeMs(),
    }
    for (const r of this.#all()) times[r.replica] = r.cpuTimeMs()
    return times
  }

  /** Every replica's event-loop context switches by name, to count wake-ups per request. */
  contextSwitches(): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const r of this.#all()) counts[r.replica] = r.contextSwitches()
    return counts
  }

  async close(): Promise<void> {
    await this.nginx.close().catch(() => {})
    const all = [this.auth, ...this.#all()]
    await Promise.all(all.map((p) => p.stop().catch(() => {})))
    await Promise.all([this.topology.close(), this.postgres.close()])
    await rm(this.logDir, { recursive: true, force: true })
  }
}

/** The gateway's login limit from the same variables docker-compose.yml passes to nginx. */
function gatewayLimits(
  env: Record<string, string | undefined>,
): Pick<GatewayLayout, 'loginRate' | 'loginBurst' | 'trustedProxies'> {
  return {
    ...(env.GATEWAY_LOGIN_RATE ? { loginRate: env.GATEWAY_LOGIN_RATE } : {}),
    ...(env.GATEWAY_LOGIN_BURST ? { loginBurst: Number(env.GATEWAY_LOGIN_BURST) } : {}),
    ...(env.GATEWAY_TRUSTED_PROXIES ? { trustedProxies: env.GATEWAY_TRUSTED_PROXIES } : {}),
  }
}

const MIGRATE_COMMAND = fileURLToPath(import.meta.resolve('@authlab/auth/migrate'))

/**
 * auth's one-shot migrate command, as compose's `migrate` service and the auth pod's init container
 * run it: as the schema owner, migrate and grant DATABASE_URL's role, and exit. Only this process
 * ever gets DATABASE_MIGRATION_URL.
 */
async function migrateDatabase(env: { DATABASE_URL: string; DATABASE_MIGRATION_URL: string }): Promise<void> {
  try {
    await promisify(execFile)(process.execPath, [MIGRATE_COMMAND], {
      env: { ...process.env, ...env },
      timeout: 60_000,
    })
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string }
    throw new Error(`the migrate command failed: ${stderr || stdout || (err as Error).message}`)
  }
}

/**
 * Resolves once `GET <url>/auth/healthz` answers 2xx through the gateway; rejects after `timeoutMs`
 * naming the last failure (a refused connection, a status), so a caller never gets a cluster that
 * only looks ready.
 */
export async function waitForGateway(url: string, timeoutMs = 5_000): Promise<void> {
  const probe = `${url}/auth/healthz`
  const deadline = Date.now() + timeoutMs
  let last = 'no attempt'
  for (;;) {
    const left = deadline - Date.now()
    try {
      const res = await fetch(probe, { signal: AbortSignal.timeout(Math.max(100, Math.min(left, 1_000))) })
      await res.arrayBuffer()
      if (res.ok) return
      last = `HTTP ${res.status}`
    } catch (err) {
      const cause = (err as Error & { cause?: unknown }).cause
      last = cause instanceof Error ? cause.message : (err as Error).message
    }
    if (Date.now() + 50 > deadline)
      throw new Error(`gateway not ready within ${timeoutMs} ms: GET ${probe}: ${last}`)
    await sleep(50)
  }
}

/**
 * Starts Redis (AOF on), Postgres, the auth service, N replicas of each downstream service (and of
 * each peer asked for) and nginx in front, all real processes on 127.0.0.1, and resolves once every
 * one is healthy. Children die with the process that started them (see ManagedProcess), so nothing
 * is orphaned.
 */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const progress = opts.onProgress ?? (() => {})
  const replicaCount = opts.replicas ?? 3
  const services = opts.services ?? DOWNSTREAM_SERVICES
  const logDir = await mkdtemp(join(tmpdir(), 'authlab-cluster-'))
  const started: { close(): Promise<void> }[] = []
  try {
    const mode = opts.redisMode ?? 'standalone'
    if (mode !== 'standalone' && opts.downstreamRoute)
      throw new Error('downstreamRoute (the network delay) needs a standalone Redis')
    // The tutorial code knows one Redis server (REDIS_URL), not Sentinel or a Redis Cluster.
    if (mode !== 'standalone' && (opts.peers?.length ?? 0) > 0)
      throw new Error(`peers (${opts.peers!.join(', ')}) need a standalone Redis: they read REDIS_URL only`)
    progress(mode === 'standalone' ? 'starting redis and postgres' : `starting a redis ${mode} and postgres`)
    const [redis, postgres] = await Promise.all([
      mode === 'standalone' ? startRedis().then(standaloneTopology) : startRedisTopology(mode),
      startPostgres(),
    ])
    started.push(redis, postgres)
    const gatewayPort = opts.port === 0 || opts.port === undefined ? await freePort() : opts.port
    const authPort = await freePort()
    const bytesListen = `127.0.0.1:${await freePort()}`
    // Least privilege, as in compose: auth runs as a role with row access only. The owner's URL goes
    // to the migrate command alone, run to completion before auth starts; no service gets it.
    const runtime = new URL(postgres.url)
    runtime.username = 'authlab_app'
    runtime.password = randomBytes(18).toString('base64url')
    const { DATABASE_MIGRATION_URL: ownerUrl = postgres.url, ...env }: Record<string, string> = {
      DATABASE_URL: runtime.href,
      AUTH_URL: `http://127.0.0.1:${authPort}`,
      LOG_LEVEL: 'warn',
      ...opts.env,
    }
    progress('migrating the database')
    await migrateDatabase({ DATABASE_URL: env.DATABASE_URL!, DATABASE_MIGRATION_URL: ownerUrl })
    progress('starting auth')
    // Each connects as its own Redis ACL user (infra/redis/users.acl): replicas cannot write.
    const auth = new ServiceProcess(
      'auth',
      'auth-1',
      authPort,
      // The native runner is the development setup: Swagger UI on auth's own port.
      {
        API_DOCS: 'true',
        ...env,
        // With replicas, auth's default REDIS_WAIT_REPLICAS (1) acknowledges a login or a
        // revocation once one of them has it.
        ...redis.envFor('auth'),
        // Not even from this process's own environment: auth refuses to hold the owner's URL.
        DATABASE_MIGRATION_URL: undefined,
        // The replicas' setting: auth would warn about a variable it does not know.
        AUTH_URL: undefined,
      },
      logDir,
    )
    started.push({ close: () => auth.stop() })
    await auth.start()

    // The replicas' way to Redis and auth, through `downstreamRoute` when one is given.
    const routed = async (name: 'redis' | 'auth', url: string) => {
      if (!opts.downstreamRoute) return url
      const u = new URL(url)
      const via = await opts.downstreamRoute({ name, host: u.hostname, port: Number(u.port) })
      u.hostname = via.host
      u.port = String(via.port)
      return u.href.replace(/\/$/, '')
    }
    const downstreamEnv = {
      ...env,
      ...redis.envFor('downstream'),
      REDIS_URL: await routed('redis', redis.envFor('downstream').REDIS_URL!),
      AUTH_URL: await routed('auth', env.AUTH_URL!),
    }
    const replicas = new Map<string, ServiceProcess[]>()
    for (const service of services) {
      const list: ServiceProcess[] = []
      for (let i = 0; i < replicaCount; i++) {
        const p = new ServiceProcess(service, `${service}-${i + 1}`, await freePort(), downstreamEnv, logDir)
        started.push({ close: () => p.stop() })
        list.push(p)
      }
      replicas.set(service, list)
    }
    // The peers: the same Redis (as their own ACL user, confined to their keys) and, for textbook's
    // password check, auth's users table as DATABASE_URL's role; one key pair and secret for all.
    const peers = new Map<string, ServiceProcess[]>()
    const peerEnv = {
      ...peerSecrets(),
      ...env,
      ...redis.envFor('textbook'),
      REDIS_URL: await routed('redis', redis.envFor('textbook').REDIS_URL!),
    }
    for (const peer of opts.peers ?? []) {
      const list: ServiceProcess[] = []
      for (let i = 0; i < replicaCount; i++) {
        const p = new ServiceProcess(peer, `${peer}-${i + 1}`, await freePort(), peerEnv, logDir)
        started.push({ close: () => p.stop() })
        list.push(p)
      }
      peers.set(peer, list)
    }
    progress(`starting ${replicaCount} replica(s) of ${[...services, ...peers.keys()].join(', ')}`)
    await Promise.all([...replicas.values(), ...peers.values()].flat().map((p) => p.start()))

    progress('starting nginx')
    const limits = gatewayLimits({ ...process.env, ...env })
    const nginx = await startNginx({
      httpConfig: await renderGatewayConfig({
        listen: `127.0.0.1:${gatewayPort}`,
        auth: [`127.0.0.1:${authPort}`],
        upstreams: Object.fromEntries(
          [...replicas, ...peers].map(([s, list]) => [s, list.map((p) => `127.0.0.1:${p.port}`)]),
        ),
        ...limits,
        bytesListen,
      }),
      listen: { host: '127.0.0.1', port: gatewayPort },
      staticDirs: GATEWAY_STATIC_DIRS,
    })
    started.push(nginx)
    const url = `http://127.0.0.1:${gatewayPort}`
    // Ready means reachable through the gateway, not merely listening; if not, nothing is left running.
    await waitForGateway(url)
    return new Cluster({
      gatewayListen: `127.0.0.1:${gatewayPort}`,
      gatewayLimits: limits,
      bytesListen,
      url,
      topology: redis,
      postgres,
      nginx,
      auth,
      replicas,
      peers,
      logDir,
    })
  } catch (err) {
    for (const s of started.reverse()) await s.close().catch(() => {})
    await rm(logDir, { recursive: true, force: true })
    throw err
  }
}
