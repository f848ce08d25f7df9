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

/**
 * Access-token claims (spec §2). On the wire the login id is the `sid` claim (OpenID Connect's
 * name); in code it is a `loginId`, never to be confused with the secret `sid` session cookie.
 */
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

/** A session id is 32 random bytes, base64url: 256 bits from the CSPRNG. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/

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
