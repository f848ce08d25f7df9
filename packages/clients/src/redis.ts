import type { RedisMode } from '@authlab/contract'
import calculateSlot from 'cluster-key-slot'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { type ChainableCommander, Cluster, Redis, type RedisOptions } from 'ioredis'
import { ClientOptionsError, RedisNotReplicatedError } from './errors.ts'
import { hangTimeoutOf, watchForHangs } from './hang-watchdog.ts'
import { markUnanswered } from './redis-origin.ts'

/** Every topology through one type: the commands authlab sends work on both. */
export type RedisClient = Redis | Cluster

export interface HostPort {
  host: string
  port: number
}

export interface RedisClientOptions {
  /**
   * Credentials (user, password) for every mode; the server too in standalone mode. In cluster
   * mode its host is the seed node unless `clusterNodes` is given.
   */
  url: string
  mode?: RedisMode
  /** Sentinel mode: the sentinels to ask for the primary, and the primary's name there. */
  sentinels?: HostPort[]
  sentinelName?: string
  /** Sentinel mode: the sentinels' own password, when they require one. */
  sentinelPassword?: string
  /** Cluster mode: seed nodes (any reachable node finds the rest). */
  clusterNodes?: HostPort[]
  /**
   * A Redis that answers nothing for this long while a command waits fails closed (503): on one
   * server or a Sentinel-managed primary the connection is dropped and every command on it fails
   * (see watchForHangs); on a Redis Cluster, ioredis' per-command timeout.
   */
  commandTimeoutMs: number
  /** Batch commands issued in the same tick into one write: cheap throughput under load. */
  autoPipelining?: boolean
  connectionName?: string
  /** Told of every connection error (for a metric); the plugin logs the first of an outage itself. */
  onError?: (err: Error) => void
}

/** Parses `host:port,host:port` (REDIS_SENTINELS, REDIS_CLUSTER_NODES). */
export function parseHostList(list: string): HostPort[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.lastIndexOf(':')
      const port = Number(entry.slice(at + 1))
      if (at <= 0 || !Number.isInteger(port) || port < 1 || port > 65535)
        throw new ClientOptionsError(`expected host:port, got "${entry}"`)
      return { host: entry.slice(0, at), port }
    })
}

/** The topology variables of `RedisEnv` (@authlab/service-kit), as the code and compose name them. */
export interface RedisTopologyEnv {
  REDIS_URL: string
  REDIS_MODE: RedisMode
  REDIS_SENTINELS: string
  REDIS_SENTINEL_NAME: string
  REDIS_SENTINEL_PASSWORD?: string | undefined
  REDIS_CLUSTER_NODES: string
}

export function redisTopology(
  env: RedisTopologyEnv,
): Pick<
  RedisClientOptions,
  'url' | 'mode' | 'sentinels' | 'sentinelName' | 'sentinelPassword' | 'clusterNodes'
> {
  return {
    url: env.REDIS_URL,
    mode: env.REDIS_MODE,
    sentinels: parseHostList(env.REDIS_SENTINELS),
    sentinelName: env.REDIS_SENTINEL_NAME,
    ...(env.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: env.REDIS_SENTINEL_PASSWORD } : {}),
    clusterNodes: parseHostList(env.REDIS_CLUSTER_NODES),
  }
}

/**
 * A client that never hides an outage: no offline queue (a command while disconnected fails at
 * once instead of waiting), a command timeout, and reconnection forever with capped backoff. The
 * same settings in every topology; only how the primary is found differs.
 */
export function createRedis(opts: RedisClientOptions, extra: RedisOptions = {}): RedisClient {
  if (!/^rediss?:\/\//.test(opts.url))
    throw new ClientOptionsError(`REDIS_URL must be redis:// or rediss://, got "${opts.url}"`)
  if (!(opts.commandTimeoutMs > 0)) throw new ClientOptionsError('commandTimeoutMs must be positive')
  const url = new URL(opts.url)
  const mode = opts.mode ?? 'standalone'
  const common: RedisOptions = {
    enableOfflineQueue: false,
    // With no offline queue and no retries, a dropped connection fails its waiting commands at once.
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(opts.commandTimeoutMs, 1000),
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
    // A primary demoted under us (Sentinel failover, partition) answers READONLY: find the new one.
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    ...(opts.connectionName ? { connectionName: opts.connectionName } : {}),
    ...extra,
  }
  if (mode === 'cluster') {
    const seeds = opts.clusterNodes?.length
      ? opts.clusterNodes
      : [{ host: url.hostname, port: Number(url.port || 6379) }]
    return markUnanswered(
      new Cluster(seeds, {
        // A cluster node's connection is not reconnected by itself when dropped (the cluster finds
        // its nodes again), so the hang watchdog does not apply; ioredis' per-command timer does.
        redisOptions: { ...common, commandTimeout: opts.commandTimeoutMs },
        enableOfflineQueue: false,
        enableAutoPipelining: opts.autoPipelining ?? true,
        // Reads from primaries only: a replica may lag, and a lagging deny entry is a revoked token accepted.
        scaleReads: 'master',
        clusterRetryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
        // A failover shows up within a second even on a node that is not asked anything.
        slotsRefreshInterval: 1000,
        slotsRefreshTimeout: Math.max(opts.commandTimeoutMs, 1000),
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
      }),
    )
  }
  if (mode === 'sentinel') {
    if (!opts.sentinels?.length) throw new ClientOptionsError('REDIS_SENTINELS is required in sentinel mode')
    if (!opts.sentinelName) throw new ClientOptionsError('REDIS_SENTINEL_NAME is required in sentinel mode')
    return watchForHangs(
      markUnanswered(
        new Redis({
          ...common,
          sentinels: opts.sentinels,
          name: opts.sentinelName,
          role: 'master',
          enableAutoPipelining: opts.autoPipelining ?? true,
          sentinelRetryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
          // Without it ioredis would reach the primary the sentinels name in plain text, password and all.
          ...(url.protocol === 'rediss:' ? { enableTLSForSentinelMode: true } : {}),
          ...(opts.sentinelPassword ? { sentinelPassword: opts.sentinelPassword } : {}),
        }),
      ),
      opts.commandTimeoutMs,
    )
  }
  return watchForHangs(
    markUnanswered(new Redis(opts.url, { ...common, enableAutoPipelining: opts.autoPipelining ?? true })),
    opts.commandTimeoutMs,
  )
}

/**
 * The time after which a command on `client` (a connection of it) counts as unanswered: for a
 * connection derived from it with ioredis' own `duplicate`, which keeps no watchdog.
 */
export function commandTimeoutOf(client: RedisClient): number | undefined {
  return client instanceof Cluster
    ? client.options.redisOptions?.commandTimeout
    : (hangTimeoutOf(client) ?? client.options.commandTimeout)
}

/** The connection that serves `key`: the client itself, or on a cluster the primary owning its slot. */
export function nodeForKey(client: RedisClient, key: string): Redis | undefined {
  if (!(client instanceof Cluster)) return client
  const owner = client.slots[calculateSlot(key)]?.[0]
  return client.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner)
}

/**
 * A function answering which server serves `key` now (`host:port` on a cluster; one constant
 * otherwise): it changes when a failover or a migration moves the key's slot. Cheap enough to call
 * per request (the slot is computed once).
 */
export function keyOwner(client: RedisClient, key: string): () => string | undefined {
  if (!(client instanceof Cluster)) return () => 'the server'
  const slot = calculateSlot(key)
  return () => client.slots[slot]?.[0]
}

/**
 * Sends `write` (commands on one slot) and then WAIT in one pipeline, so both go down the same
 * connection to the same primary (WAIT counts the writes of its own connection: sent separately,
 * a slot map that changed in between would send it to a node that never saw the write, which
 * answers at once). Resolves with the first command's reply once `replicas` replicas have the
 * write; throws AUTHLAB_REDIS_NOT_REPLICATED (503) when they do not within `timeoutMs`, a write the
 * caller must not acknowledge because a failover now could lose it. `replicas` 0 sends no WAIT.
 * WAIT holds its connection until then, so give writes a connection of their own.
 */
export async function writeReplicated(
  client: RedisClient,
  replicas: number,
  timeoutMs: number,
  write: (pipeline: ChainableCommander) => ChainableCommander,
): Promise<unknown> {
  const pipeline = write(client.pipeline())
  if (replicas > 0) pipeline.wait(replicas, timeoutMs)
  const results = await pipeline.exec()
  if (!results) throw new Error('redis discarded the pipeline')
  const failed = results.find(([err]) => err)
  if (failed) throw failed[0]
  if (replicas > 0 && Number(results.at(-1)?.[1]) < replicas)
    throw new RedisNotReplicatedError(replicas, timeoutMs)
  return results[0]?.[1]
}

/** Another connection (or, on a cluster, set of connections) with the same settings. */
export function duplicateRedis(client: RedisClient): RedisClient {
  if (client instanceof Cluster) return markUnanswered(client.duplicate())
  const timeoutMs = hangTimeoutOf(client)
  const copy = markUnanswered(client.duplicate())
  return timeoutMs === undefined ? copy : watchForHangs(copy, timeoutMs)
}

/** Resolves once the client is connected (commands fail fast before that: no offline queue). */
export async function redisReady(redis: RedisClient, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady)
      reject(new Error(`redis not ready after ${timeoutMs} ms (status ${redis.status})`))
    }, timeoutMs)
    const onReady = () => {
      clearTimeout(timer)
      resolve()
    }
    redis.once('ready', onReady)
  })
}

declare module 'fastify' {
  interface FastifyInstance {
    redis: RedisClient
  }
}

async function redisPlugin(fastify: FastifyInstance, opts: RedisClientOptions) {
  const redis = createRedis(opts)
  // Without a listener ioredis logs every failed reconnect to stderr; route it through pino.
  let down = false
  const onError = (err: Error) => {
    opts.onError?.(err)
    if (!down) fastify.log.warn({ err: err.message }, 'redis connection error')
    down = true
  }
  redis.on('error', onError)
  // A cluster reports a failing node here, not as 'error'.
  redis.on('node error', onError)
  redis.on('ready', () => {
    if (down) fastify.log.info('redis connection restored')
    down = false
  })
  fastify.decorate<RedisClient>('redis', redis)
  fastify.addHook('onClose', async () => {
    await redis.quit().catch(() => redis.disconnect())
  })
}

export const redisClient = fp(redisPlugin, { name: 'authlab-redis', fastify: '5.x' })
