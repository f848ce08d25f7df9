import { hash } from 'node:crypto'

/**
 * The Redis side of sessions and revocations. This file is the only place that knows a key name:
 * auth writes through `RevocationWriter`, every verifier reads through `RevocationReader`.
 */
const PREFIX = 'authlab:'
/**
 * Every revocation key carries one hash tag, so on a Redis Cluster they share one slot: the
 * revocation script, jwt-denylist's MGET and the feed's snapshot are each one command on one node,
 * atomic as on a single server. Sessions carry none: they are the bulk of the keys and the load,
 * and spread over every primary (the revocation script deletes them one by one, before it runs).
 */
const REVOCATIONS = `${PREFIX}{revocations}:`

export const keys = {
  /** Sessions are keyed by a hash of their id, so a Redis dump holds no usable cookie. */
  session: (sessionHash: string) => `${PREFIX}sess:${sessionHash}`,
  deniedJti: (jti: string) => `${REVOCATIONS}deny:jti:${jti}`,
  deniedLogin: (loginId: string) => `${REVOCATIONS}deny:lid:${loginId}`,
  /** Per-user cut-off (epoch ms): tokens of this user issued in a whole second before it are revoked. */
  userCutoff: (userId: string) => `${REVOCATIONS}cutoff:${userId}`,
  /** Every live revocation, scored by when it stops mattering: what `jwt-pushed` resyncs from. */
  liveSet: `${REVOCATIONS}live`,
  /** Hash {gen, rev}: `rev` counts revocation writes, `gen` changes when the counter was lost. */
  revision: `${REVOCATIONS}revision`,
  /** The highest id of the Postgres revocation log that Redis has applied. */
  watermark: `${REVOCATIONS}watermark`,
  /**
   * The run_id of the Redis process whose copies auth last checked complete against the Postgres
   * log. A Redis that restarted (and may have replayed an AOF that lacks its last second), or a
   * replica promoted in its place, has another run_id, so the marker no longer matches and
   * verifiers fail closed until auth has reconciled.
   */
  ready: `${REVOCATIONS}ready`,
} as const

/**
 * Not a key: the sharded pub/sub channel (SPUBLISH/SSUBSCRIBE, Redis >= 7) on which each
 * revocation write is pushed to `jwt-pushed`. It carries the same hash tag, so on a cluster it is
 * published by the node that runs the revocation script, and subscribers follow that node.
 */
export const REVOCATION_CHANNEL = `${REVOCATIONS}feed`

export function hashSessionId(sessionId: string): string {
  // One-shot hash: no Hash object per request (the createHash chain was ~3 % of a session replica's CPU).
  return hash('sha256', sessionId, 'base64url')
}
