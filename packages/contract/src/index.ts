/**
 * What the auth service writes and the downstream verifiers read. Both sides import these names,
 * so they cannot drift apart.
 */

export {
  assertCsrfProof,
  type CredentialSource,
  CSRF_HEADER,
  CSRF_SAFE_METHODS,
  csrfProofRequired,
  csrfSafeMethod,
  type PresentedCredential,
  presentedCredential,
} from './credentials.ts'
export { CsrfHeaderMissingError } from './errors.ts'

export const MODES = [
  'none',
  'jwt',
  'session',
  'session-cached',
  'jwt-denylist',
  'jwt-pushed',
  'introspect',
  'phantom',
] as const
export type Mode = (typeof MODES)[number]

/**
 * The default `aud` of the short-lived tokens auth's phantom exchange issues for the gateway to
 * pass on (JWT_INTERNAL_AUDIENCE): only the `phantom` mode accepts it, and `phantom` accepts no
 * other, so a public access token and an internal one can never stand in for each other.
 */
export const INTERNAL_AUDIENCE = 'authlab-internal'

/**
 * Access-token claims. On the wire the login id is the `sid` claim (OpenID Connect's
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
  /** The user's roles when the token was issued (see ADMIN_ROLE). */
  roles: string[]
}
export const REQUIRED_CLAIMS = ['iss', 'aud', 'sub', 'iat', 'exp', 'jti', 'sid', 'roles'] as const

/** The role `GET /<service>/<mode>/admin` requires; roles are free-form strings otherwise. */
export const ADMIN_ROLE = 'admin'

/**
 * A role is a short lowercase name (letters, digits, `-`, `_`, `:`): it travels in every access
 * token and session record, so it is bounded, and it never needs escaping in a header or log.
 */
export const ROLE_PATTERN = /^[a-z][a-z0-9_:-]{0,31}$/
export const MAX_ROLES = 16
export const ACCESS_TOKEN_TYPE = 'at+jwt'

/** A session id is 32 random bytes, base64url: 256 bits from the CSPRNG. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/

/**
 * Cookie names. With Secure on, the session and access cookies take the `__Host-` prefix (Secure,
 * no Domain, Path=/); the refresh cookie is scoped to Path=/auth/refresh, which `__Host-` forbids,
 * so it takes `__Secure-`.
 */
export function cookieNames(secure: boolean) {
  return {
    session: `${secure ? '__Host-' : ''}sid`,
    access: `${secure ? '__Host-' : ''}access_token`,
    refresh: `${secure ? '__Secure-' : ''}refresh_token`,
  } as const
}

/** The only path the refresh cookie is sent to: it never travels with ordinary API requests. */
export const REFRESH_COOKIE_PATH = '/auth/refresh'

/**
 * Introspection clients authenticate with HTTP Basic (RFC 7662 §2.1, RFC 6749 §2.3.1). This pair
 * is a development credential, named as such: any shared deployment sets its own secrets
 * (INTROSPECTION_CLIENTS in auth, INTROSPECTION_CLIENT_ID/SECRET in each downstream service).
 */
export const DEV_INTROSPECTION_CLIENT = {
  id: 'authlab-downstream',
  secret: 'dev-only-introspection-secret-change-me',
} as const

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64-encoded. */
export function basicAuthorization(id: string, secret: string): string {
  const encode = (s: string) => new URLSearchParams({ s }).toString().slice(2)
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`
}

/**
 * The downstream services behind the gateway: each its own process and path prefix (/<name>/…).
 * The one list: the native runner starts and routes these (packages/cluster), and a test holds
 * the static gateway template, compose and Kubernetes to the same names
 * (packages/cluster/test/gateway.test.ts).
 */
export const DOWNSTREAM_SERVICES = ['orders', 'profile'] as const
export type DownstreamService = (typeof DOWNSTREAM_SERVICES)[number]

/**
 * How Redis is deployed (REDIS_MODE): one server, a Sentinel-managed primary, or a Redis Cluster.
 * One list for the configuration schema, the clients that connect and the servers tests start.
 */
export const REDIS_MODES = ['standalone', 'sentinel', 'cluster'] as const
export type RedisMode = (typeof REDIS_MODES)[number]
