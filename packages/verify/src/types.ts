import type { RedisClient } from '@authlab/clients'
import type { AccessClaims, Mode } from '@authlab/contract'
import type { FeedObserver, RevocationReader } from '@authlab/revocation'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'

export interface Principal {
  userId: string
  /** The login the credential belongs to, when it names one. */
  loginId?: string
  /** The roles the credential carries (a token's `roles` claim, a session record's roles). */
  roles: readonly string[]
  /**
   * Accepted without the mode's revocation check (jwt-denylist with DENYLIST_FAIL_OPEN while Redis
   * is unreachable): authentication only, so `requireRole` grants nothing on it.
   */
  degraded?: true
}

/** One way of turning a request into a principal or an error: one file per mode in strategies/. */
export interface Strategy {
  readonly mode: Mode
  /** The scheme a 401 names in WWW-Authenticate. */
  readonly challenge: 'Bearer' | 'Cookie'
  /** False while the strategy can only answer 503 (no keys yet, revocation copies incomplete). */
  ready(): boolean
  /** Resolves with the principal, or rejects with a 401 (UnauthorizedError) or a 503. */
  authenticate(request: FastifyRequest): Promise<Principal>
  close?(): void | Promise<void>
}

/** What every strategy is built from: compiled once at registration, shared by all of them. */
export interface StrategyContext {
  options: VerifyOptions
  log: FastifyBaseLogger
  /** Full JWT verification (signature by `kid`, pinned alg, iss, aud, exp, required claims). */
  verifyAccessToken(request: FastifyRequest): Promise<AccessClaims>
  /**
   * The same check of the Authorization header's Bearer token, with the internal audience instead
   * of the public one (phantom). Throws when phantom is not registered: no verifier was compiled.
   */
  verifyInternalToken(request: FastifyRequest): Promise<AccessClaims>
  /** True once the JWKS has at least one key. */
  hasKeys(): boolean
  sessionCookie(request: FastifyRequest): string | undefined
  accessCookie(request: FastifyRequest): string | undefined
}

/**
 * What the strategies that read Redis (session, session-cached, jwt-denylist, jwt-pushed) get on
 * top: the app's Redis client and one revocation reader. Made only when one of them is registered.
 */
export interface RedisStrategyContext extends StrategyContext {
  redis: RedisClient
  reader: RevocationReader
}

/**
 * The plugin's options. One whose doc starts with mode names is read only by those modes' strategies
 * and required only when one of them is registered (given anyway, it is still checked); the others
 * are required by every registration.
 */
export interface VerifyOptions {
  /**
   * The modes this app authenticates with; only their strategies are built, and
   * `fastify.authenticate(mode)` refuses any other. Default: every mode of @authlab/contract's MODES.
   * Four of them read Redis (session, session-cached, jwt-denylist, jwt-pushed) and need
   * @authlab/clients' `redisClient` registered first; `none`, `jwt`, `introspect` and `phantom` need
   * no Redis at all: with only those, no Redis client is used, no connection made and no feed started.
   */
  modes?: readonly Mode[]
  issuer: string
  audience: string
  /** Pinned: tokens signed with anything else are rejected whatever their header says. */
  algorithm: 'EdDSA' | 'ES256' | 'RS256'
  /** The key set is fetched from here whatever the modes (the JWT modes verify with it). */
  jwksUrl: string
  /** Leeway for exp/iat between clocks (fast-jwt clockTolerance). */
  clockToleranceMs: number
  /** Tokens issued longer ago than this are refused whatever their exp says (fast-jwt maxAge). */
  maxAgeMs: number
  /** The JWKS is refetched this often; the fetched set replaces the cached one. */
  jwksRefreshMs: number
  /** Selects the cookie names (`__Host-` prefixed when true). */
  cookieSecure: boolean
  /** Size of fast-jwt's verified-token cache; 0 turns it off. Revocation checks run after it. */
  verifyCacheSize: number
  /** session, session-cached: the sliding idle timeout each lookup renews. */
  sessionIdleTtlMs?: number
  /** session-cached: how long a looked-up session is served from the per-replica cache. */
  sessionCacheTtlMs?: number
  /** session-cached: the cache's size. */
  sessionCacheMaxEntries?: number
  /** jwt-pushed: past this since the feed was last known complete, requests fail closed (503). */
  pushedMaxStalenessMs?: number
  /** jwt-denylist: serve valid tokens while Redis is unreachable (never while it is not ready). Default false. */
  denylistFailOpen?: boolean
  /** introspect: the auth service's base URL (POST /auth/introspect). */
  authUrl?: string
  /** introspect: connect, headers and body timeout of each introspection request. */
  introspectTimeoutMs?: number
  /** introspect: this service's introspection client credential (RFC 7662 §2.1: auth requires one). */
  introspectionClient?: { id: string; secret: string }
  /**
   * phantom: the `aud` of the internal tokens auth's exchange issues for the gateway to pass on.
   * Must differ from `audience`: each verifier accepts one of the two, never both.
   */
  internalAudience?: string
  /** jwt-pushed: told of the feed's each revocation applied (its lag) and each resync. For metrics. */
  feedObserver?: FeedObserver
}
