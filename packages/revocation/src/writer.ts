import { randomUUID } from 'node:crypto'
import type { Redis, Result } from 'ioredis'
import { hashSessionId, keys, REVOCATION_CHANNEL } from './keys.ts'
import { type Revocation, revocationMember, type SessionRecord } from './types.ts'

/**
 * One revocation write, atomically: the deny entries (a user's cut-off only ever moves forward),
 * the live set, the deletion of the revoked logins' sessions, the watermark (only ever moves
 * forward: log ids are not commit-ordered), the revision counter and the publish that carries it.
 * A script rather than MULTI because the message must carry the revision the counter gave it.
 *
 * Every number crosses as a string: Lua would format large doubles as 1.7e+12.
 *
 * KEYS: watermark, revision, live set, one key per entry, then the session keys to delete.
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
for j = 4 + #entries, #KEYS do redis.call('DEL', KEYS[j]) end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])
local mark = redis.call('GET', KEYS[1])
if not mark or tonumber(mark) < tonumber(ARGV[2]) then redis.call('SET', KEYS[1], ARGV[2]) end
local gen = redis.call('HGET', KEYS[2], 'gen')
if not gen then
  gen = ARGV[4]
  redis.call('HSET', KEYS[2], 'gen', gen)
end
local rev = redis.call('HINCRBY', KEYS[2], 'rev', 1)
redis.call('PUBLISH', ARGV[3], '{"gen":"' .. gen .. '","rev":' .. rev .. ',"at":' .. ARGV[1] .. ',"entries":' .. ARGV[5] .. '}')
return rev
`

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
  }
}

export interface RevokeBatch {
  entries: Revocation[]
  /** Hashes of the revoked logins' session ids. */
  sessionHashes: string[]
  /** The highest Postgres log id this batch covers (0 when it covers none). */
  watermark: number
}

/** Auth's writes to Redis. Postgres is the source of truth; these are its fast copies. */
export class RevocationWriter {
  readonly #redis: Redis

  constructor(redis: Redis) {
    this.#redis = redis
    // EVALSHA with a fallback to EVAL: the script crosses the wire once per connection.
    redis.defineCommand('authlabRevoke', { lua: REVOKE_SCRIPT })
  }

  writeSession(sessionId: string, record: SessionRecord, idleTtlMs: number): Promise<unknown> {
    return this.#redis.set(keys.session(hashSessionId(sessionId)), JSON.stringify(record), 'PX', idleTtlMs)
  }

  /** Applies one batch; resolves with the revision it was published as. */
  async revoke(batch: RevokeBatch, now = Date.now()): Promise<number> {
    const entries: ScriptEntry[] = batch.entries.map((e) => ({
      kind: e.kind,
      value: e.value,
      expiresAt: String(e.expiresAt),
      ...(e.kind === 'user' ? { cutoff: String(e.cutoff) } : {}),
      member: revocationMember(e),
    }))
    const keyList = [
      keys.watermark,
      keys.revision,
      keys.liveSet,
      ...batch.entries.map(entryKey),
      ...batch.sessionHashes.map(keys.session),
    ]
    return this.#redis.authlabRevoke(
      keyList.length,
      ...keyList,
      String(now),
      String(batch.watermark),
      REVOCATION_CHANNEL,
      randomUUID(),
      // An empty Lua table would encode as {}, so the JSON is built here and passed through.
      JSON.stringify(entries),
    )
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
