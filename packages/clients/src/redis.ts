import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Redis, type RedisOptions } from 'ioredis'
import { ClientOptionsError } from './errors.ts'

export interface RedisClientOptions {
  url: string
  /** A command waits at most this long; then the request fails closed with 503. */
  commandTimeoutMs: number
  /** Batch commands issued in the same tick into one write: cheap throughput under load. */
  autoPipelining?: boolean
  connectionName?: string
  /** Told of every connection error (for a metric); the plugin logs the first of an outage itself. */
  onError?: (err: Error) => void
}

/**
 * A client that never hides an outage: no offline queue (a command while disconnected fails at
 * once instead of waiting), a command timeout, and reconnection forever with capped backoff.
 */
export function createRedis(opts: RedisClientOptions, extra: RedisOptions = {}): Redis {
  if (!/^rediss?:\/\//.test(opts.url))
    throw new ClientOptionsError(`REDIS_URL must be redis:// or rediss://, got "${opts.url}"`)
  if (!(opts.commandTimeoutMs > 0)) throw new ClientOptionsError('commandTimeoutMs must be positive')
  return new Redis(opts.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: opts.commandTimeoutMs,
    connectTimeout: Math.max(opts.commandTimeoutMs, 1000),
    enableAutoPipelining: opts.autoPipelining ?? true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
    ...(opts.connectionName ? { connectionName: opts.connectionName } : {}),
    ...extra,
  })
}

/** Resolves once the client is connected (commands fail fast before that: no offline queue). */
export async function redisReady(redis: Redis, timeoutMs = 5000): Promise<void> {
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
    redis: Redis
  }
}

async function redisPlugin(fastify: FastifyInstance, opts: RedisClientOptions) {
  const redis = createRedis(opts)
  // Without a listener ioredis logs every failed reconnect to stderr; route it through pino.
  let down = false
  redis.on('error', (err) => {
    opts.onError?.(err)
    if (!down) fastify.log.warn({ err: err.message }, 'redis connection error')
    down = true
  })
  redis.on('ready', () => {
    if (down) fastify.log.info('redis connection restored')
    down = false
  })
  fastify.decorate('redis', redis)
  fastify.addHook('onClose', async () => {
    await redis.quit().catch(() => redis.disconnect())
  })
}

export const redisClient = fp(redisPlugin, { name: 'authlab-redis', fastify: '5.x' })
