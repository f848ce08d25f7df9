import {
  type AccessClaims,
  parseRevocationMember,
  REVOCATION_CHANNEL,
  type Revocation,
  redisKeys,
} from '@authlab/contract'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import { UnauthorizedError, VerifierUnavailableError } from '../errors.ts'

const HEARTBEAT_MS = 250

/**
 * The local revocation set of `jwt-pushed`, fed by the Redis channel.
 *
 * - Nothing is lost across disconnects: on every (re)subscribe it first subscribes, then reads the
 *   full revocation set from Redis and merges it, so a revocation published while it was away is
 *   picked up, and one published during the resync arrives on the channel.
 * - A Redis that lost its data has no "ready" marker until auth rebuilds it; until then the feed
 *   stays unsynced rather than trusting an empty set.
 * - Staleness = time since the feed last knew it was complete (resync done and the subscriber
 *   connection answering heartbeats). Past `maxStalenessMs`, verification fails closed (503).
 */
export class RevocationFeed {
  readonly #redis: Redis
  readonly #subscriber: Redis
  readonly #log: FastifyBaseLogger
  readonly #lids = new Map<string, number>()
  readonly #jtis = new Map<string, number>()
  readonly #cutoffs = new Map<string, { cutoff: number; expiresAt: number }>()
  #synced = false
  #freshAt = 0
  #timers: NodeJS.Timeout[] = []
  #resyncing: Promise<void> | undefined

  constructor(redis: Redis, log: FastifyBaseLogger) {
    this.#redis = redis
    this.#log = log
    // A subscribed connection can do nothing else, so it is a connection of its own.
    this.#subscriber = redis.duplicate({
      enableOfflineQueue: true,
      autoResubscribe: true,
      connectionName: 'jwt-pushed',
    })
    this.#subscriber.on('error', () => {})
    this.#subscriber.on('message', (_channel, message) => this.#apply(message))
    this.#subscriber.on('close', () => {
      this.#synced = false
    })
    this.#subscriber.on('ready', () => void this.#resync())
  }

  start(): void {
    this.#subscriber.subscribe(REVOCATION_CHANNEL).catch(() => {})
    this.#timers.push(
      setInterval(() => void this.#heartbeat(), HEARTBEAT_MS),
      setInterval(() => this.#prune(), 5000),
    )
    for (const t of this.#timers) t.unref()
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t)
    this.#subscriber.disconnect()
  }

  /** ms since the local set was last known complete; Infinity before the first sync. */
  staleness(): number {
    return this.#freshAt === 0 ? Number.POSITIVE_INFINITY : Date.now() - this.#freshAt
  }

  get synced(): boolean {
    return this.#synced
  }

  isRevoked(claims: AccessClaims): boolean {
    if (this.#lids.has(claims.sid) || this.#jtis.has(claims.jti)) return true
    const cutoff = this.#cutoffs.get(claims.sub)
    return cutoff !== undefined && claims.iat < cutoff.cutoff
  }

  #add(r: Revocation): void {
    if (r.expiresAt <= Date.now()) return
    if (r.kind === 'lid') this.#lids.set(r.value, r.expiresAt)
    else if (r.kind === 'jti') this.#jtis.set(r.value, r.expiresAt)
    else {
      const existing = this.#cutoffs.get(r.value)
      if (!existing || existing.cutoff < r.cutoff)
        this.#cutoffs.set(r.value, { cutoff: r.cutoff, expiresAt: r.expiresAt })
    }
  }

  #apply(message: string): void {
    try {
      for (const r of JSON.parse(message) as Revocation[]) this.#add(r)
      if (this.#synced) this.#freshAt = Date.now()
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'unreadable revocation message')
    }
  }

  async #resync(): Promise<void> {
    this.#resyncing ??= (async () => {
      try {
        // Subscribed already (ioredis resubscribes before 'ready'), so this read misses nothing.
        const [ready, members] = await Promise.all([
          this.#redis.get(redisKeys.revocationsReady),
          this.#redis.zrangebyscore(redisKeys.revocationSet, Date.now(), '+inf', 'WITHSCORES'),
        ])
        if (!ready) return // data lost and not rebuilt yet: stay unsynced, the heartbeat retries
        for (let i = 0; i + 1 < members.length; i += 2) {
          const r = parseRevocationMember(members[i] as string, Number(members[i + 1]))
          if (r) this.#add(r)
        }
        this.#synced = true
        this.#freshAt = Date.now()
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, 'revocation resync failed')
      } finally {
        this.#resyncing = undefined
      }
    })()
    return this.#resyncing
  }

  async #heartbeat(): Promise<void> {
    if (this.#subscriber.status !== 'ready') return
    if (!this.#synced) return void (await this.#resync())
    try {
      await this.#subscriber.ping()
      // Check the marker too: a Redis that was flushed without a reconnect must not look complete.
      if (await this.#redis.exists(redisKeys.revocationsReady)) this.#freshAt = Date.now()
      else this.#synced = false
    } catch {
      // no freshness this beat
    }
  }

  #prune(): void {
    const now = Date.now()
    for (const map of [this.#lids, this.#jtis]) for (const [k, exp] of map) if (exp <= now) map.delete(k)
    for (const [k, v] of this.#cutoffs) if (v.expiresAt <= now) this.#cutoffs.delete(k)
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    revocationFeed: RevocationFeed
  }
}

export const jwtPushedStrategy = fp(
  async (fastify: FastifyInstance) => {
    const feed = new RevocationFeed(fastify.redis, fastify.log)
    feed.start()
    fastify.decorate('revocationFeed', feed)
    fastify.addHook('onClose', () => feed.close())
    const bound = fastify.verifyOptions.pushedMaxStalenessMs
    fastify.authStrategies.set('jwt-pushed', {
      mode: 'jwt-pushed',
      async authenticate(request) {
        const claims = await fastify.verifyAccessToken(request)
        if (feed.staleness() > bound) throw new VerifierUnavailableError('revocation feed is stale')
        if (feed.isRevoked(claims)) throw new UnauthorizedError('token revoked')
        return { sub: claims.sub, lid: claims.sid }
      },
    })
  },
  { fastify: '5.x', dependencies: ['authlab-verify-core'], name: 'authlab-strategy-jwt-pushed' },
)
