import { randomUUID } from 'node:crypto'
import { nodeForKey, type RedisClient, writeReplicated } from '@authlab/clients'
import type { Result } from 'ioredis'
import { hashSessionId, keys, REVOCATION_CHANNEL } from './keys.ts'
import { type Revocation, revocationMember, type SessionRecord } from './types.ts'

/**
 * One revocation write, atomically: the deny entries (a user's cut-off only ever moves forward),
 * the live set, the watermark (only ever moves forward: log ids are not commit-ordered), the
 * revision counter and the publish that carries it. A script rather than MULTI because the message
 * must carry the revision the counter gave it. Every key shares the `{revocations}` hash tag, so on
 * a Redis Cluster it runs on one node; the revoked logins' sessions, spread over the cluster, are
 * deleted before it.
 *
 * Every number crosses as a string: Lua would format large doubles as 1.7e+12.
 *
 * KEYS: watermark, revision, live set, then one key per entry.
 * ARGV: now ms, watermark, channel, a generation id for a lost counter, entries JSON.
 */
const REVOKE_SCRIPT = `
local now = tonumber(ARGV[1])
local entries = cjson.decode(ARGV[5])
for i, e in ipairs(entries) do
  local ttl = tonumber(e.expiresAt) - now
  if ttl > 0 then
    local key = KEYS[3 + i]
    local px = string.format('%d', ttl)
    if e.kind == 'user' then
      local current = redis.call('GET', key)
      if not current or tonumber(current) < tonumber(e.cutoff) then
        redis.call('SET', key, e.cutoff, 'PX', px)
      end
    else
      redis.call('SET', key, '1', 'PX', px)
    end
    redis.call('ZADD', KEYS[3], e.expiresAt, e.member)
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])
local mark = redis.call('GET', KEYS[1])
if not mark or tonumber(mark) < tonumber(ARGV[2]) then redis.call('SET', KEYS[1], ARGV[2]) end
local gen = redis.call('HGET', KEYS[2], 'gen')
if not gen then
  gen = ARGV[4]
  redis.call('HSET', KEYS[2], 'gen', gen)
end
local rev = redis.call('HINCRBY', KEYS[2], 'rev', 1)
redis.call('SPUBLISH', ARGV[3], '{"gen":"' .. gen .. '","rev":' .. rev .. ',"at":' .. ARGV[1] .. ',"entries":' .. ARGV[5] .. '}')
return rev
`

/**
 * A session's record rewritten in place, unless it is gone (logged out, idled out: never brought
 * back) or already holds a newer role change's roles (a late write must not undo a later change).
 * The TTL is kept. KEYS: the session. ARGV: the record JSON, its rolesVersion.
 */
const REWRITE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local ok, record = pcall(cjson.decode, current)
local stored = 0
if ok and type(record) == 'table' and tonumber(record.rolesVersion) then stored = tonumber(record.rolesVersion) end
if stored > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
return 1
`

/** A session that stays, with the record it must now hold. */
export interface SessionRewrite {
  sessionHash: string
  record: SessionRecord
}

/** What the feed publishes: revision `rev` of generation `gen`, and its entries. */
export interface FeedMessage {
  gen: string
  rev: number
  /** The writer's clock when it revoked (ms): a subscriber's lag is its own clock minus this. */
  at?: number
  entries: Revocation[]
}

/** Wire form of an entry inside the script (numbers as strings, the set member precomputed). */
interface ScriptEntry {
  kind: Revocation['kind']
  value: string
  expiresAt: string
  cutoff?: string
  member: string
}

function entryKey(r: Revocation): string {
  if (r.kind === 'jti') return keys.deniedJti(r.value)
  if (r.kind === 'login') return keys.deniedLogin(r.value)
  return keys.userCutoff(r.value)
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    authlabRevoke(numKeys: number, ...args: string[]): Result<number, Context>
    authlabRewriteSession(key: string, record: string, version: string): Result<number, Context>
  }
}

export interface RevokeBatch {
  entries: Revocation[]
  /** Hashes of the revoked logins' session ids. */
  sessionHashes: string[]
  /**
   * Sessions that stay but whose record changes (a role change): each is rewritten in place where
   * it still exists, keeping its idle TTL, before the entries are written.
   */
  rewrites?: SessionRewrite[]
  /** The highest Postgres log id this batch covers (0 when it covers none). */
  watermark: number
}

export interface WriterOptions {
  /**
   * Acknowledge a write only once this many replicas have it (WAIT on every primary written to),
   * so a failover cannot lose it; 0 does not wait.
   */
  waitReplicas?: number
  waitTimeoutMs?: number
}

/** Auth's writes to Redis. Postgres is the source of truth; these are its fast copies. */
export class RevocationWriter {
  readonly #redis: RedisClient
  readonly #waitReplicas: number
  readonly #waitTimeoutMs: number

  constructor(redis: RedisClient, opts: WriterOptions = {}) {
    this.#redis = redis
    this.#waitReplicas = opts.waitReplicas ?? 0
    this.#waitTimeoutMs = opts.waitTimeoutMs ?? 200
    // EVALSHA with a fallback to EVAL: the script crosses the wire once per connection.
    redis.defineCommand('authlabRevoke', { lua: REVOKE_SCRIPT })
    redis.defineCommand('authlabRewriteSession', { numberOfKeys: 1, lua: REWRITE_SCRIPT })
  }

  async writeSession(sessionId: string, record: SessionRecord, idleTtlMs: number): Promise<void> {
    const key = keys.session(hashSessionId(sessionId))
    await writeReplicated(this.#redis, this.#waitReplicas, this.#waitTimeoutMs, (p) =>
      p.set(key, JSON.stringify(record), 'PX', idleTtlMs),
    )
  }

  /**
   * Applies one batch; resolves with the revision it was published as. `replicated: false` (the
   * reconciler's rebuild) skips the WAIT where a promotion redoes the write anyway: on the node of
   * the revocation slot, whose new run_id makes auth rebuild. Sessions on other primaries (a
   * cluster) are still waited for: nothing would delete them again.
   */
  async revoke(batch: RevokeBatch, now = Date.now(), opts: { replicated?: boolean } = {}): Promise<number> {
    const always = opts.replicated ?? true
    const marked = always ? undefined : nodeForKey(this.#redis, keys.ready)
    // Sessions first: should the script then fail, the caller rolls back and a session is gone
    // that Postgres still counts live, which errs on the side of revoking. On a cluster each DEL
    // goes to the node holding that session.
    await Promise.all(
      batch.sessionHashes.map(keys.session).map((key) => {
        const wait = always || nodeForKey(this.#redis, key) !== marked ? this.#waitReplicas : 0
        return writeReplicated(this.#redis, wait, this.#waitTimeoutMs, (p) => p.del(key))
      }),
    )
    await this.rewriteSessions(batch.rewrites ?? [])
    const entries: ScriptEntry[] = batch.entries.map((e) => ({
      kind: e.kind,
      value: e.value,
      expiresAt: String(e.expiresAt),
      ...(e.kind === 'user' ? { cutoff: String(e.cutoff) } : {}),
      member: revocationMember(e),
    }))
    const keyList = [keys.watermark, keys.revision, keys.liveSet, ...batch.entries.map(entryKey)]
    const rev = await writeReplicated(
      this.#redis,
      always ? this.#waitReplicas : 0,
      this.#waitTimeoutMs,
      (p) =>
        p.authlabRevoke(
          keyList.length,
          ...keyList,
          String(now),
          String(batch.watermark),
          REVOCATION_CHANNEL,
          randomUUID(),
          // An empty Lua table would encode as {}, so the JSON is built here and passed through.
          JSON.stringify(entries),
        ),
    )
    return Number(rev)
  }

  /** Rewrites sessions in place (REWRITE_SCRIPT); resolves with how many were still there to rewrite. */
  async rewriteSessions(rewrites: readonly SessionRewrite[]): Promise<number> {
    const written = await Promise.all(
      rewrites.map(({ sessionHash, record }) =>
        writeReplicated(this.#redis, this.#waitReplicas, this.#waitTimeoutMs, (p) =>
          p.authlabRewriteSession(
            keys.session(sessionHash),
            JSON.stringify(record),
            String(record.rolesVersion ?? 0),
          ),
        ),
      ),
    )
    return written.filter((n) => Number(n) === 1).length
  }

  /** Declares Redis' copies complete for the Redis process `runId` (see keys.ready). */
  markReady(runId: string): Promise<unknown> {
    return this.#redis.set(keys.ready, runId)
  }

  /** The marker and watermark as they are now, for the reconciler's comparison. */
  async state(): Promise<{ ready: string | null; watermark: number }> {
    const [ready, watermark] = await this.#redis.mget(keys.ready, keys.watermark)
    return { ready: ready ?? null, watermark: Number(watermark ?? 0) }
  }
}
