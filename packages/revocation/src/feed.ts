import { EventEmitter } from 'node:events'
import { commandTimeoutOf, keyOwner, nodeForKey, type RedisClient } from '@authlab/clients'
import { Cluster, type Redis } from 'ioredis'
import { REVOCATION_CHANNEL } from './keys.ts'
import type { RevocationReader } from './reader.ts'
import { cutoffCovers, type Revocation, type TokenFacts } from './types.ts'
import type { FeedMessage } from './writer.ts'

export interface FeedOptions {
  heartbeatMs?: number
  log?: { warn(obj: object, msg: string): void }
  /** Told of every message applied in order (with its lag behind the writer) and every resync. */
  observer?: FeedObserver
}

export interface FeedObserver {
  applied(lagMs: number): void
  resynced(): void
}

/**
 * The feed's connection: subscribed (SSUBSCRIBE) to the revocation channel on the server that
 * publishes it. It reconnects itself rather than through ioredis, so each connection starts from a
 * fresh 'ready' and, on a cluster, goes to the channel slot's owner as it is then (a failover or a
 * slot migration moves it). Only the current connection's events count: one that was replaced is
 * silenced before it is dropped, and an attempt overtaken by a newer one gives up.
 */
class FeedLink extends EventEmitter<{ ready: []; close: []; message: [string] }> {
  readonly #client: RedisClient
  readonly #ownerNow: () => string | undefined
  #conn: Redis | undefined
  /** The `host:port` the current connection went to (cluster), to compare with the slot's owner. */
  #node: string | undefined
  #epoch = 0
  #closed = false
  #attempt = 0
  #timer: NodeJS.Timeout | undefined

  constructor(client: RedisClient) {
    super()
    this.#client = client
    this.#ownerNow = keyOwner(client, REVOCATION_CHANNEL)
  }

  get status(): string {
    return this.#conn?.status ?? 'end'
  }

  /** False when the cluster says another node serves the channel's slot now. */
  get onOwner(): boolean {
    return !(this.#client instanceof Cluster) || this.#node === this.#ownerNow()
  }

  open(): void {
    void this.#connect()
  }

  async #connect(): Promise<void> {
    const epoch = ++this.#epoch
    const client = this.#client
    if (client instanceof Cluster) {
      // Where is the slot now? An error leaves the old map, and the attempt below may fail and retry.
      await new Promise<void>((resolve) => client.refreshSlotsCache(() => resolve()))
    }
    if (this.#closed || epoch !== this.#epoch) return
    const node = nodeForKey(client, REVOCATION_CHANNEL)
    if (!node) return this.#retry()
    const conn = node.duplicate({
      autoResubscribe: false,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      // A cluster's node connections are lazy; this one must connect now.
      lazyConnect: false,
      connectionName: 'authlab-revocation-feed',
      // The client's hang watchdog does not come with a duplicate: its few commands (the
      // subscription, which must be acknowledged) get ioredis' own timer instead.
      commandTimeout: commandTimeoutOf(client),
    })
    this.#conn = conn
    this.#node = this.#ownerNow()
    conn.on('error', () => {})
    conn.on('smessage', (_channel: string, message: string) => this.emit('message', message))
    conn.on('ready', () => {
      this.#attempt = 0
      this.emit('ready')
    })
    conn.on('close', () => this.emit('close'))
    conn.on('end', () => {
      if (this.#conn === conn) this.#retry()
    })
  }

  #retry(): void {
    if (this.#closed) return
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => void this.#connect(), Math.min(50 * 2 ** this.#attempt++, 1000))
    this.#timer.unref()
  }

  /**
   * Resolves when the server has acknowledged the subscription, so nothing published after is
   * missed. No acknowledgement (a timeout, MOVED) and that connection is replaced: a subscription
   * that is not confirmed is not trusted.
   */
  subscribe(): Promise<unknown> {
    const conn = this.#conn
    if (!conn) return Promise.reject(new Error('the revocation feed has no connection'))
    return conn.ssubscribe(REVOCATION_CHANNEL).catch((err: Error) => {
      this.replace(conn)
      throw err
    })
  }

  /** Drops `conn` if it is still the current connection, and connects again to the slot's owner. */
  replace(conn: Redis | undefined = this.#conn): void {
    if (!conn || conn !== this.#conn || this.#closed) return
    this.#conn = undefined
    conn.removeAllListeners()
    conn.on('error', () => {})
    conn.disconnect()
    this.emit('close')
    this.#retry()
  }

  close(): void {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#conn?.disconnect()
  }
}

/**
 * A local copy of every live revocation, kept by the Redis feed, for `jwt-pushed`.
 *
 * Nothing is lost, and a loss is never silent:
 * - Each message carries the revision the revocation script gave it (`gen`, `rev`); revisions are
 *   contiguous on the channel, so a missing one is a gap, and a gap or a new generation resyncs.
 * - On every (re)connect it subscribes itself and waits for Redis to confirm the subscription
 *   before reading the snapshot; messages that arrive meanwhile are held and applied after it, so a
 *   publish between the reconnect and the snapshot is in one or the other.
 * - Staleness is the time since the feed last knew it was complete: a heartbeat SSUBSCRIBE sent on
 *   the subscriber connection at time t and acknowledged proves every revocation published before
 *   t has been received (Redis delivers in order on the connection) and, on a cluster, that this
 *   node still serves the channel (another answers MOVED). Past the bound, callers fail closed.
 */
export class RevocationFeed {
  readonly #reader: RevocationReader
  readonly #subscriber: FeedLink
  readonly #heartbeatMs: number
  readonly #log: NonNullable<FeedOptions['log']>
  readonly #observer: FeedObserver | undefined
  readonly #logins = new Map<string, number>()
  readonly #jtis = new Map<string, number>()
  readonly #cutoffs = new Map<string, { cutoff: number; expiresAt: number }>()
  #gen: string | null = null
  #rev = 0
  #synced = false
  /** Messages received while a snapshot is being taken; undefined when none is. */
  #held: FeedMessage[] | undefined
  #freshAt = 0
  #resyncs = 0
  /** Counts subscriber connections: a resync begun on an earlier one must not mark this one synced. */
  #connection = 0
  #timers: NodeJS.Timeout[] = []
  #resyncing: Promise<void> | undefined
  #beating = false

  constructor(redis: RedisClient, reader: RevocationReader, opts: FeedOptions = {}) {
    this.#reader = reader
    this.#heartbeatMs = opts.heartbeatMs ?? 250
    this.#log = opts.log ?? { warn() {} }
    this.#observer = opts.observer
    this.#subscriber = new FeedLink(redis)
    this.#subscriber.on('message', (message) => this.#onMessage(message))
    this.#subscriber.on('close', () => {
      this.#synced = false
    })
    this.#subscriber.on('ready', () => {
      this.#connection++
      void this.#resync()
    })
  }

  start(): void {
    this.#subscriber.open()
    this.#timers.push(
      setInterval(() => void this.#heartbeat(), this.#heartbeatMs),
      setInterval(() => this.#prune(), 5000),
    )
    for (const t of this.#timers) t.unref()
  }

  close(): void {
    for (const t of this.#timers) clearInterval(t)
    this.#subscriber.close()
  }

  /** ms since the local set was last known complete; Infinity before the first sync. */
  staleness(): number {
    return this.#freshAt === 0 ? Number.POSITIVE_INFINITY : Date.now() - this.#freshAt
  }

  get synced(): boolean {
    return this.#synced
  }

  /** How many full resyncs ran (connects, gaps, new generations). */
  get resyncs(): number {
    return this.#resyncs
  }

  isRevoked(token: TokenFacts): boolean {
    if (this.#logins.has(token.loginId) || this.#jtis.has(token.jti)) return true
    const cutoff = this.#cutoffs.get(token.userId)
    return cutoff !== undefined && cutoffCovers(cutoff.cutoff, token.issuedAt)
  }

  #add(r: Revocation, now: number): void {
    if (r.expiresAt <= now) return
    if (r.kind === 'login') this.#logins.set(r.value, r.expiresAt)
    else if (r.kind === 'jti') this.#jtis.set(r.value, r.expiresAt)
    else {
      const existing = this.#cutoffs.get(r.value)
      if (!existing || existing.cutoff < r.cutoff) {
        this.#cutoffs.set(r.value, { cutoff: Number(r.cutoff), expiresAt: Number(r.expiresAt) })
      }
    }
  }

  #onMessage(raw: string): void {
    let message: FeedMessage
    try {
      message = JSON.parse(raw) as FeedMessage
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'unreadable revocation message; resyncing')
      this.#synced = false
      void this.#resync()
      return
    }
    if (this.#held) {
      this.#held.push(message)
      return
    }
    this.#apply(message)
  }

  /** Applies the next message in order; anything else is a duplicate (ignored) or a gap (resync). */
  #apply(message: FeedMessage): void {
    if (message.gen === this.#gen && message.rev <= this.#rev) return
    // The script writes entries with numbers as strings; Number() makes them comparable.
    const now = Date.now()
    for (const e of message.entries) this.#add(normalize(e), now)
    if (message.gen !== this.#gen || message.rev !== this.#rev + 1) {
      // Applied anyway (a revocation is never wrong to know), but something was missed before it.
      this.#synced = false
      void this.#resync()
      return
    }
    this.#rev = message.rev
    if (message.at !== undefined) this.#observer?.applied(Date.now() - message.at)
  }

  #resync(): Promise<void> {
    this.#resyncing ??= this.#snapshot().finally(() => {
      this.#resyncing = undefined
    })
    return this.#resyncing
  }

  async #snapshot(): Promise<void> {
    const connection = this.#connection
    try {
      if (this.#subscriber.status !== 'ready') return
      // Hold messages from now until the snapshot is applied.
      this.#held ??= []
      // SSUBSCRIBE resolves once Redis has acknowledged it: from here on nothing is missed.
      await this.#subscriber.subscribe()
      // Readiness is per connection of the reader: wait for it to name this Redis process.
      if (!(await this.#reader.check())) return this.#release()
      const sentAt = Date.now()
      const snap = await this.#reader.snapshot()
      // Reconnected meanwhile: the new connection is not subscribed yet. The heartbeat, which
      // resyncs whenever the feed is not synced, starts over on it.
      if (connection !== this.#connection || this.#subscriber.status !== 'ready') return this.#release()
      for (const e of snap.entries) this.#add(e, sentAt)
      this.#gen = snap.gen
      this.#rev = snap.rev
      const held = this.#held ?? []
      this.#held = undefined
      this.#synced = true
      this.#resyncs++
      this.#observer?.resynced()
      for (const m of held) this.#apply(m)
      if (this.#synced) this.#freshAt = sentAt
    } catch (err) {
      this.#release()
      this.#log.warn({ err: (err as Error).message }, 'revocation resync failed; retrying')
    }
  }

  /**
   * A snapshot that did not complete: the held messages are applied as they stand (a revocation is
   * never wrong to know); still unsynced, the next heartbeat resyncs.
   */
  #release(): void {
    const held = this.#held ?? []
    this.#held = undefined
    this.#synced = false
    const now = Date.now()
    for (const m of held) for (const e of m.entries) this.#add(normalize(e), now)
  }

  async #heartbeat(): Promise<void> {
    // One beat at a time: a slow acknowledgement must not overlap the next beat's.
    if (this.#beating || this.#subscriber.status !== 'ready') return
    this.#beating = true
    try {
      // On a cluster the client's map may name another owner before this node knows it lost the
      // slot (a failover it has not noticed): follow the map.
      if (!this.#subscriber.onOwner) {
        this.#synced = false
        this.#subscriber.replace()
        return
      }
      if (!this.#synced || !this.#reader.ready) {
        this.#synced = false
        return void (await this.#resync())
      }
      const sentAt = Date.now()
      // No acknowledgement (the subscription is replaced, see FeedLink.subscribe): no freshness.
      // On a cluster this is also how a slot migration shows: the old node drops the subscription
      // (SUNSUBSCRIBE) and answers the next SSUBSCRIBE with MOVED, or not at all.
      await this.#subscriber.subscribe().then(
        () => {
          if (this.#synced && this.#reader.ready) this.#freshAt = Math.max(this.#freshAt, sentAt)
        },
        () => {
          this.#synced = false
        },
      )
    } finally {
      this.#beating = false
    }
  }

  #prune(): void {
    const now = Date.now()
    for (const map of [this.#logins, this.#jtis]) for (const [k, exp] of map) if (exp <= now) map.delete(k)
    for (const [k, v] of this.#cutoffs) if (v.expiresAt <= now) this.#cutoffs.delete(k)
  }
}

function normalize(e: Revocation): Revocation {
  const expiresAt = Number(e.expiresAt)
  return e.kind === 'user' ? { ...e, cutoff: Number(e.cutoff), expiresAt } : { ...e, expiresAt }
}
