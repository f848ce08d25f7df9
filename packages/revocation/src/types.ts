/** The Redis record behind a `sid` session cookie. */
export interface SessionRecord {
  userId: string
  /** The login the session belongs to; its JWTs carry the same id in their `sid` claim. */
  loginId: string
  /** Absolute expiry, epoch ms; the idle expiry is the key's TTL. */
  expiresAt: number
  /** The user's roles, rewritten in place when they change (RevokeBatch.rewrites). */
  roles: string[]
  /**
   * Which role change the roles come from (users.roles_version): a rewrite never replaces them
   * with an older version's. Absent in a record from before versions: 0.
   */
  rolesVersion?: number
}

/** One revocation as written to the Postgres log, Redis and the feed. Times are epoch ms. */
export type Revocation =
  | { kind: 'jti'; value: string; expiresAt: number }
  | { kind: 'login'; value: string; expiresAt: number }
  | { kind: 'user'; value: string; cutoff: number; expiresAt: number }

/** What a verifier checks against the revocation copies: the facts of a verified access token. */
export interface TokenFacts {
  jti: string
  loginId: string
  userId: string
  /** `iat`, epoch seconds */
  issuedAt: number
}

/**
 * True when the user's cut-off covers a token issued at `issuedAtS`. JWTs carry `iat` in whole
 * seconds, so only a token whose whole second lies before the cut-off is known to predate it;
 * tokens issued in the cut-off's own second are revoked by their login's entry instead (logout-all
 * revokes every login that exists when it takes the user's lock).
 */
export function cutoffCovers(cutoffMs: number, issuedAtS: number): boolean {
  return (issuedAtS + 1) * 1000 <= cutoffMs
}

export function revocationMember(r: Revocation): string {
  return r.kind === 'user' ? `user:${r.value}:${r.cutoff}` : `${r.kind}:${r.value}`
}

export function parseRevocationMember(member: string, expiresAt: number): Revocation | undefined {
  const [kind, value, cutoff] = member.split(':')
  if (!value) return undefined
  if (kind === 'jti' || kind === 'login') return { kind, value, expiresAt }
  if (kind === 'user' && cutoff) return { kind, value, cutoff: Number(cutoff), expiresAt }
  return undefined
}

/** The revocation-relevant facts of verified access-token claims (`sid` is the login id). */
export function tokenFacts(claims: { jti: string; sid: string; sub: string; iat: number }): TokenFacts {
  return { jti: claims.jti, loginId: claims.sid, userId: claims.sub, issuedAt: claims.iat }
}
