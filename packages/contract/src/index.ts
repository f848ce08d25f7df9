import { createHash } from 'node:crypto'

/**
 * What the auth service writes and the downstream verifiers read. Both sides import these names,
 * so they cannot drift apart.
 */

export const MODES = [
  'none',
  'jwt',
  'session',
  'session-cached',
  'jwt-denylist',
  'jwt-pushed',
  'introspect',
] as const
export type Mode = (typeof MODES)[number]

/** Access-token claims (spec §2). `sid` is the public id of the login, never the session secret. */
export interface AccessClaims {
  iss: string
  aud: string
  sub: string
  iat: number
  exp: number
  jti: string
  sid: string
}
export const REQUIRED_CLAIMS = ['iss', 'aud', 'sub', 'iat', 'exp', 'jti', 'sid'] as const
export const ACCESS_TOKEN_TYPE = 'at+jwt'

/** The session record behind a `sid` cookie. */
export interface SessionRecord {
  /** user id */
  sub: string
  /** login id, the `sid` claim of the JWTs of the same login */
  lid: string
  /** absolute expiry, epoch ms */
  abs: number
}

/** A session id is 32 random bytes, base64url: 256 bits from the CSPRNG. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/

export const redisKeys = {
  /** Sessions are keyed by a hash of their id, so a Redis dump holds no usable cookie. */
  session: (sessionId: string) => `authlab:sess:${hashSessionId(sessionId)}`,
  sessionByHash: (hash: string) => `authlab:sess:${hash}`,
  deniedJti: (jti: string) => `authlab:deny:jti:${jti}`,
  deniedLogin: (loginId: string) => `authlab:deny:lid:${loginId}`,
  /** Per-user cut-off: tokens of this user with `iat` < value (epoch s) are revoked. */
  userCutoff: (sub: string) => `authlab:cutoff:${sub}`,
  /** Every live revocation, scored by when it stops mattering: what `jwt-pushed` resyncs from. */
  revocationSet: 'authlab:revocations',
  /**
   * Present once the revocation copies in Redis are complete. A Redis that lost its data has no
   * marker until auth has rebuilt the copies from Postgres; until then, modes that depend on them
   * fail closed instead of trusting an empty denylist.
   */
  revocationsReady: 'authlab:revocations:ready',
  rateLimitPrefix: 'authlab:rl:',
} as const

export const REVOCATION_CHANNEL = 'authlab:revocations'

export function hashSessionId(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('base64url')
}

/** One revocation entry, as published on the channel and stored in the revocation set. */
export type Revocation =
  | { kind: 'jti'; value: string; expiresAt: number }
  | { kind: 'lid'; value: string; expiresAt: number }
  | { kind: 'user'; value: string; cutoff: number; expiresAt: number }

export function revocationMember(r: Revocation): string {
  return r.kind === 'user' ? `user:${r.value}:${r.cutoff}` : `${r.kind}:${r.value}`
}

export function parseRevocationMember(member: string, expiresAt: number): Revocation | undefined {
  const [kind, value, cutoff] = member.split(':')
  if (!value) return undefined
  if (kind === 'jti' || kind === 'lid') return { kind, value, expiresAt }
  if (kind === 'user' && cutoff) return { kind, value, cutoff: Number(cutoff), expiresAt }
  return undefined
}

/** Cookie names; with Secure on they take the `__Host-` prefix (no Domain, Path=/, Secure). */
export function cookieNames(secure: boolean) {
  const prefix = secure ? '__Host-' : ''
  return {
    session: `${prefix}sid`,
    access: `${prefix}access_token`,
    refresh: `${prefix}refresh_token`,
  } as const
}

/** Header a cookie-authenticated state-changing request must carry (CSRF defence, see README). */
export const CSRF_HEADER = 'x-authlab-csrf'
