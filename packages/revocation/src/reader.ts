import { keyOwner, nodeForKey, type RedisClient } from '@authlab/clients'
import { RevocationsNotReadyError } from './errors.ts'
import { hashSessionId, keys } from './keys.ts'
import {
  cutoffCovers,
  parseRevocationMember,
  type Revocation,
  type SessionRecord,
  type TokenFacts,
} from './types.ts'

/**
 * The run_id of the Redis process that holds the revocation keys: the server itself, or on a
 * cluster the primary that owns their slot now.
 */
export async function redisRunId(redis: RedisClient): Promise<string> {
  const node = nodeForKey(redis, keys.ready)
  if (!node) throw new Error('no Redis node owns the revocation slot yet')
  const info = await node.info('server')
  const match = /^run_id:(\w+)/m.exec(info)
  if (!match?.[1]) throw new Error('INFO server has no run_id')
  return match[1]
}

export interface ReaderOptions {
  /** How often the ready marker is re-read while connected. */
  readyPollMs?: number
  onError?: (err: Error) => void
}

export interface Snapshot {
  gen: string | null
  rev: number
  entries: Revocation[]
}

/**
 * Every verifier's read side. It answers only while Redis' copies are known complete: readiness is
 * per connection (each reconnect may be to a Redis that restarted and replayed an incomplete AOF,
 * so it starts not ready) and becomes true once the ready marker names this Redis process. Reads
 * while not ready throw RevocationsNotReadyError (503): a resurrected session or a lost deny entry
 * must not be trusted.
 */
export class RevocationReader {
  readonly #redis: RedisClient
  readonly #pollMs: number
  readonly #onError: (err: Error) => void
  #runId: string | undefined
  /** The server holding the revocation keys when #runId was read (a cluster failover moves it). */
  #owner: string | undefined
  readonly #ownerNow: () => string | undefined
  #ready = false
  #timer: NodeJS.Timeout | undefined
  #checking: Promise<boolean> | undefined
  readonly #onClose = () => {
    this.#runId = undefined
    this.#ready = false
  }
  readonly #onConnected = () => void this.check()

  constructor(redis: RedisClient, opts: ReaderOptions = {}) {
    this.#redis = redis
    this.#ownerNow = keyOwner(redis, keys.ready)
    this.#pollMs = opts.readyPollMs ?? 250
    this.#onError = opts.onError ?? (() => {})
  }

  start(): void {
    this.#redis.on('close', this.#onClose)
    this.#redis.on('ready', this.#onConnected)
    this.#timer = setInterval(() => void this.check(), this.#pollMs)
    this.#timer.unref()
    if (this.#redis.status === 'ready') void this.check()
  }

  close(): void {
    clearInterval(this.#timer)
    this.#redis.off('close', this.#onClose)
    this.#redis.off('ready', this.#onConnected)
  }

  get ready(): boolean {
    return this.#ready
  }

  /** The run_id this connection talks to, once known. */
  get runId(): string | undefined {
    return this.#runId
  }

  /** Re-reads the marker now; resolves with the readiness it found. Concurrent calls share one read. */
  check(): Promise<boolean> {
    // .finally runs asynchronously, so the slot is cleared only after it has been assigned.
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined
    })
    return this.#checking
  }

  async #check(): Promise<boolean> {
    try {
      if (this.#redis.status === 'ready') {
        // On a cluster a failover promotes a replica without closing the client: the slot's owner
        // changes, and the replica's copy of the marker names the old primary's run_id. Forget it.
        const owner = this.#ownerNow()
        if (owner !== this.#owner) {
          this.#owner = owner
          this.#runId = undefined
          this.#ready = false
        }
        this.#runId ??= await redisRunId(this.#redis)
        const marker = await this.#redis.get(keys.ready)
        if (this.#ownerNow() !== owner) {
          // The slot moved under these two reads (a MOVED answer updates the map): the run_id and
          // the marker may come from two processes. Start over at the next check.
          this.#owner = undefined
          this.#runId = undefined
          this.#ready = false
          return false
        }
        this.#ready = marker !== null && marker === this.#runId
      } else {
        this.#ready = false
      }
    } catch (err) {
      this.#ready = false
      this.#onError(err as Error)
    }
    return this.#ready
  }

  /**
   * Connected but not known complete → RevocationsNotReadyError. Not connected → the command is
   * sent anyway and fails as a connection error (no offline queue), so callers can tell "Redis is
   * down" from "Redis is up but must not be trusted yet". Not connected is no promise that the
   * command fails, though: auto-pipelining writes it at the next setImmediate, and the connection
   * may have become ready in between, so every read is judged again by what it answered
   * (#assertTrusted).
   */
  #assertReady(): void {
    if (this.#redis.status !== 'ready') return
    // The owner is compared per request, not only at the next poll: a replica just promoted must
    // not answer from a marker it copied from the primary it replaces.
    if (this.#ready && this.#ownerNow() !== this.#owner) {
      this.#ready = false
      void this.check()
    }
    if (!this.#ready) throw new RevocationsNotReadyError()
  }

  /**
   * After a read: ioredis follows a MOVED to the promoted replica and updates its map before the
   * answer arrives, and that replica's copy of the marker still names the old primary. An answer
   * from another owner than the one checked is not trusted.
   */
  #assertSameOwner(): void {
    if (this.#ownerNow() !== this.#owner) {
      this.#ready = false
      void this.check()
      throw new RevocationsNotReadyError()
    }
  }

  /**
   * After a read that does not carry the marker itself: trusted only if readiness holds now. A
   * reconnect clears it and only a marker read on the new connection sets it again; answers on one
   * connection come back in the order they were sent, so if it holds when this answer arrives, the
   * marker was confirmed before this read ran. Without it, a read written by auto-pipelining just
   * after a reconnect (sent while reconnecting, flushed once ready) would be answered by a Redis
   * that restarted from an older AOF, with a session its logout had deleted.
   */
  #assertTrusted(): void {
    this.#assertSameOwner()
    if (!this.#ready) throw new RevocationsNotReadyError()
  }

  /**
   * The live session behind a session id, or undefined. One GETEX: reads it and, with `slideMs`,
   * slides its idle timeout in the same command.
   */
  async readSession(sessionId: string, slideMs?: number): Promise<SessionRecord | undefined> {
    this.#assertReady()
    const key = keys.session(hashSessionId(sessionId))
    const raw = slideMs ? await this.#redis.getex(key, 'PX', slideMs) : await this.#redis.get(key)
    this.#assertTrusted()
    if (!raw) return undefined
    const record = JSON.parse(raw) as SessionRecord
    if (!(record.expiresAt > Date.now())) return undefined
    // A record without roles holds none: nothing is granted that was not written.
    return Array.isArray(record.roles) ? record : { ...record, roles: [] }
  }

  /**
   * True when a verified token is revoked: its jti, its login or its user's cut-off, in one MGET
   * that also re-reads the marker, so even a Redis flushed without a reconnect fails closed.
   */
  async isRevoked(token: TokenFacts): Promise<boolean> {
    this.#assertReady()
    const [ready, jti, login, cutoff] = await this.#redis.mget(
      keys.ready,
      keys.deniedJti(token.jti),
      keys.deniedLogin(token.loginId),
      keys.userCutoff(token.userId),
    )
    this.#assertSameOwner()
    if (ready !== this.#runId) {
      this.#ready = false
      throw new RevocationsNotReadyError()
    }
    return jti !== null || login !== null || (cutoff !== null && cutoffCovers(Number(cutoff), token.issuedAt))
  }

  /**
   * Every live revocation and the revision it is complete up to, read atomically (the revocation
   * script bumps the revision and writes the set in one step).
   */
  async snapshot(): Promise<Snapshot> {
    this.#assertReady()
    const result = await this.#redis
      .multi()
      .hmget(keys.revision, 'gen', 'rev')
      .zrangebyscore(keys.liveSet, Date.now(), '+inf', 'WITHSCORES')
      .get(keys.ready)
      .exec()
    const failed = result?.find(([err]) => err)
    if (!result || failed) throw failed?.[0] ?? new Error('snapshot transaction discarded')
    const [[, revision], [, members], [, marker]] = result as [
      [null, [string | null, string | null]],
      [null, string[]],
      [null, string | null],
    ]
    this.#assertSameOwner()
    if (marker !== this.#runId) {
      this.#ready = false
      throw new RevocationsNotReadyError()
    }
    const [gen, rev] = revision
    const entries: Revocation[] = []
    for (let i = 0; i + 1 < members.length; i += 2) {
      const r = parseRevocationMember(members[i] as string, Number(members[i + 1]))
      if (r) entries.push(r)
    }
    return { gen, rev: Number(rev ?? 0), entries }
  }
}
