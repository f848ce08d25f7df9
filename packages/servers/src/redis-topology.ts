import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { RedisMode } from '@authlab/contract'
import { findBinary, freePort, ManagedProcess, waitUntil } from './process.ts'
import { type RedisServer, redisPing, startNativeRedis } from './redis.ts'
import { newRedisPasswords, type RedisPasswords, type RedisRole, redisUrlFor } from './redis-acl.ts'

const run = promisify(execFile)

/**
 * Redis as a deployment shape: one server, a Sentinel-managed primary with replicas, or a Redis
 * Cluster. Every shape hands services the same variables (REDIS_MODE, REDIS_URL and
 * REDIS_SENTINELS or REDIS_CLUSTER_NODES) and the same ACL users (infra/redis/users.acl).
 */
export interface RedisTopology {
  readonly mode: RedisMode
  /** Every data node (primaries and replicas); which is which changes with failovers. */
  readonly nodes: readonly RedisServer[]
  /** The environment a service connects with, as one of the ACL users. */
  envFor(role: RedisRole): Record<string, string>
  /** Replicas each write should reach before it is acknowledged (REDIS_WAIT_REPLICAS). */
  readonly replicasPerPrimary: number
  /** The node that is the primary for `key` now (asked of the servers, not of a client's cache). */
  primaryFor(key: string): Promise<RedisServer>
  /** Resolves once every slot (cluster) or the set (sentinel) has a reachable primary and every node answers. */
  healthy(timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

/** redis-cli with the password in its environment (REDISCLI_AUTH), not on its command line. */
async function redisCli(password: string | undefined, args: string[], timeout = 10_000): Promise<string> {
  const { stdout } = await run(findBinary('redis-cli'), args, {
    timeout,
    env: { ...process.env, ...(password ? { REDISCLI_AUTH: password } : {}) },
  })
  return stdout
}

function cli(node: RedisServer, password: string, ...args: string[]): Promise<string> {
  return redisCli(password, ['-h', node.host, '-p', String(node.port), '--user', 'default', ...args])
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`redis topology: ${what} not reached within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function startNodes(
  count: number,
  passwords: RedisPasswords,
  args: (port: number) => Promise<string[]>,
) {
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()))
  const nodes: RedisServer[] = []
  try {
    for (const port of ports) {
      nodes.push(
        await startNativeRedis({
          port,
          passwords,
          // Replicas log in to their primary as the admin user (the ACL file has no password-less user).
          args: ['--masteruser', 'default', '--masterauth', passwords.admin, ...(await args(port))],
        }),
      )
    }
  } catch (err) {
    await Promise.all(nodes.map((n) => n.close()))
    throw err
  }
  return nodes
}

/** A Redis Cluster of `primaries` primaries with one replica each, on loopback ports. */
export async function startRedisCluster(
  opts: { primaries?: number; nodeTimeoutMs?: number } = {},
): Promise<RedisTopology> {
  const primaries = opts.primaries ?? 3
  const passwords = newRedisPasswords()
  const nodes = await startNodes(primaries * 2, passwords, async () => [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    // A bus port of its own: by default it is port + 10000, which a free port above 55535 cannot have.
    '--cluster-port',
    String(await freePort()),
    // How long a primary may be unreachable before its replica takes over: the failover window.
    '--cluster-node-timeout',
    String(opts.nodeTimeoutMs ?? 1000),
  ])
  const admin = passwords.admin
  try {
    await redisCli(
      admin,
      [
        '--user',
        'default',
        '--cluster',
        'create',
        ...nodes.map((n) => `${n.host}:${n.port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      30_000,
    )
  } catch (err) {
    await Promise.all(nodes.map((n) => n.close()))
    throw err
  }
  const topology: RedisTopology = {
    mode: 'cluster',
    nodes,
    replicasPerPrimary: 1,
    envFor: (role) => ({
      REDIS_MODE: 'cluster',
      REDIS_URL: redisUrlFor(role, passwords, nodes[0]!.host, nodes[0]!.port),
      REDIS_CLUSTER_NODES: nodes.map((n) => `${n.host}:${n.port}`).join(','),
    }),
    async primaryFor(key) {
      for (const node of nodes) {
        if (!node.running) continue
        const slot = Number((await cli(node, admin, 'CLUSTER', 'KEYSLOT', key)).trim())
        // CLUSTER SHARDS would be neater; CLUSTER SLOTS exists on every Redis 7.
        const slots = await cli(node, admin, '--json', 'CLUSTER', 'SLOTS').catch(() => '')
        const ranges = JSON.parse(slots || '[]') as [number, number, [string, number, string]][]
        const range = ranges.find(([from, to]) => slot >= from && slot <= to)
        const primary = range && nodes.find((n) => n.port === Number(range[2][1]))
        if (primary) return primary
      }
      throw new Error(`no primary serves ${key}`)
    },
    async healthy(timeoutMs = 30_000) {
      await until(
        'cluster_state:ok on every running node, every running replica in sync',
        timeoutMs,
        async () => {
          let replicas = 0
          let served = 0
          for (const node of nodes.filter((n) => n.running)) {
            if (!/cluster_state:ok/.test(await cli(node, admin, 'CLUSTER', 'INFO'))) return false
            const info = await cli(node, admin, 'INFO', 'replication')
            if (/role:slave/.test(info)) {
              if (!/master_link_status:up/.test(info)) return false
              replicas++
            } else {
              served += Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0)
            }
          }
          return served === replicas
        },
      )
    },
    close: async () => {
      await Promise.all(nodes.map((n) => n.close()))
    },
  }
  await topology.healthy()
  return topology
}

class NativeSentinel {
  readonly host = '127.0.0.1'
  readonly port: number
  readonly #dir: string
  #proc: ManagedProcess | undefined

  constructor(port: number, dir: string) {
    this.port = port
    this.#dir = dir
  }

  async start(conf: string, password: string): Promise<void> {
    const file = join(this.#dir, 'sentinel.conf')
    // Sentinel rewrites its file as it learns the set; it must be writable.
    await writeFile(file, conf, { mode: 0o600 })
    this.#proc = new ManagedProcess({
      name: `redis-sentinel :${this.port}`,
      command: findBinary('redis-server'),
      args: [file, '--sentinel'],
      logFile: join(this.#dir, 'sentinel.log'),
    })
    await waitUntil(this.#proc, () => redisPing(this.host, this.port, password))
  }

  async close(): Promise<void> {
    await this.#proc?.stop('SIGTERM')
    await rm(this.#dir, { recursive: true, force: true })
  }
}

/** A primary with `replicas` replicas and `sentinels` sentinels (quorum: a majority of them). */
export async function startRedisSentinel(
  opts: { replicas?: number; sentinels?: number; name?: string; downAfterMs?: number } = {},
): Promise<RedisTopology & { readonly sentinels: readonly { host: string; port: number }[] }> {
  const name = opts.name ?? 'authlab'
  const passwords = newRedisPasswords()
  const admin = passwords.admin
  const [primary] = await startNodes(1, passwords, async () => [])
  const replicas = await startNodes(opts.replicas ?? 2, passwords, async () => [
    '--replicaof',
    primary!.host,
    String(primary!.port),
  ])
  const nodes = [primary!, ...replicas]
  const count = opts.sentinels ?? 3
  // The sentinels want a password too: one that could reconfigure them could name a rogue primary.
  const sentinelPassword = randomBytes(24).toString('hex')
  const sentinels: NativeSentinel[] = []
  const closeAll = async () => {
    await Promise.all(sentinels.map((s) => s.close()))
    await Promise.all(nodes.map((n) => n.close()))
  }
  try {
    await until('replicas in sync', 30_000, async () =>
      /master_link_status:up/.test(await cli(replicas.at(-1)!, admin, 'INFO', 'replication')),
    )
    for (let i = 0; i < count; i++) {
      const sentinel = new NativeSentinel(
        await freePort(),
        await mkdtemp(join(tmpdir(), 'authlab-sentinel-')),
      )
      sentinels.push(sentinel)
      await sentinel.start(
        [
          `port ${sentinel.port}`,
          `bind ${sentinel.host}`,
          `requirepass ${sentinelPassword}`,
          // Sentinels talk to each other with the same password.
          `sentinel sentinel-pass ${sentinelPassword}`,
          `sentinel monitor ${name} ${primary!.host} ${primary!.port} ${Math.floor(count / 2) + 1}`,
          `sentinel auth-user ${name} default`,
          `sentinel auth-pass ${name} ${admin}`,
          // How long a primary may be unreachable before the sentinels agree it is down.
          `sentinel down-after-milliseconds ${name} ${opts.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${name} 10000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
        sentinelPassword,
      )
    }
  } catch (err) {
    await closeAll()
    throw err
  }
  const hosts = sentinels.map((s) => ({ host: s.host, port: s.port }))
  const askSentinels = async (): Promise<RedisServer | undefined> => {
    for (const s of sentinels) {
      const out = await redisCli(
        sentinelPassword,
        ['-h', s.host, '-p', String(s.port), 'SENTINEL', 'get-master-addr-by-name', name],
        5000,
      ).catch(() => undefined)
      const port = Number(out?.trim().split('\n')[1])
      const node = nodes.find((n) => n.port === port)
      if (node) return node
    }
    return undefined
  }
  const topology = {
    mode: 'sentinel' as const,
    nodes,
    sentinels: hosts,
    replicasPerPrimary: replicas.length,
    envFor: (role: RedisRole) => ({
      REDIS_MODE: 'sentinel',
      // The host in the URL is not used in sentinel mode: the sentinels name the primary.
      REDIS_URL: redisUrlFor(role, passwords, primary!.host, primary!.port),
      REDIS_SENTINELS: hosts.map((h) => `${h.host}:${h.port}`).join(','),
      REDIS_SENTINEL_NAME: name,
      REDIS_SENTINEL_PASSWORD: sentinelPassword,
    }),
    async primaryFor() {
      const node = await askSentinels()
      if (!node) throw new Error('the sentinels name no primary')
      return node
    },
    async healthy(timeoutMs = 30_000) {
      await until('a running primary that the sentinels agree on, with its replicas', timeoutMs, async () => {
        const node = await askSentinels()
        if (!node?.running) return false
        const info = await cli(node, admin, 'INFO', 'replication')
        const running = nodes.filter((n) => n.running).length
        return /role:master/.test(info) && Number(/connected_slaves:(\d+)/.exec(info)?.[1]) >= running - 1
      })
    },
    close: closeAll,
  }
  await topology.healthy()
  return topology
}

/** One server (native or a container) as a topology, so callers treat all three shapes alike. */
export function standaloneTopology(node: RedisServer): RedisTopology {
  return {
    mode: 'standalone',
    nodes: [node],
    replicasPerPrimary: 0,
    envFor: (role) => ({ REDIS_MODE: 'standalone', REDIS_URL: node.urlFor(role) }),
    primaryFor: async () => node,
    healthy: (timeoutMs = 10_000) =>
      until('the server answering', timeoutMs, async () => {
        const url = new URL(node.url)
        return redisPing(node.host, node.port, decodeURIComponent(url.password))
      }),
    close: () => node.close(),
  }
}

export async function startRedisTopology(mode: RedisMode): Promise<RedisTopology> {
  if (mode === 'cluster') return startRedisCluster()
  if (mode === 'sentinel') return startRedisSentinel()
  return standaloneTopology(await startNativeRedis())
}
