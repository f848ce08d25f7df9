import { hash } from 'node:crypto'

/**
 * The Redis side of sessions and revocations. This file is the only place that knows a key name:
 * auth writes through `RevocationWriter`, every verifier reads through `RevocationReader`.
 */
const PREFIX = 'authlab:'

export const keys = {
  /** Sessions are keyed by a hash of their id, so a Redis dump holds no usable cookie. */
  session: (sessionHash: string) => `${PREFIX}sess:${sessionHash}`,
  deniedJti: (jti: string) => `${PREFIX}deny:jti:${jti}`,
  deniedLogin: (loginId: string) => `${PREFIX}deny:lid:${loginId}`,
  /** Per-user cut-off (epoch ms): tokens of this user issued in a whole second before it are revoked. */
  userCutoff: (userId: string) => `${PREFIX}cutoff:${userId}`,
  /** Every live revocation, scored by when it stops mattering: what `jwt-pushed` resyncs from. */
  liveSet: `${PREFIX}revocations:live`,
  /** Hash {gen, rev}: `rev` counts revocation writes, `gen` changes when the counter was lost. */
  revision: `${PREFIX}revocations:revision`,
  /** The highest id of the Postgres revocation log that Redis has applied. */
  watermark: `${PREFIX}revocations:watermark`,
  /**
   * The run_id of the Redis process whose copies auth last checked complete against the Postgres
   * log. A Redis that restarted (and may have replayed an AOF that lacks its last second) has a new
   * run_id, so a marker restored from disk no longer matches and verifiers fail closed until auth
   * has reconciled.
   */
  ready: `${PREFIX}revocations:ready`,
} as const

/** Not a key: the pub/sub channel on which each revocation write is pushed to `jwt-pushed`. */
export const REVOCATION_CHANNEL = `${PREFIX}revocation-feed`

export function hashSessionId(sessionId: string): string {
  // One-shot hash: no Hash object per request (the createHash chain was ~3 % of a session replica's CPU).
  return hash('sha256', sessionId, 'base64url')
}
