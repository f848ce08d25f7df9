import type { AccessClaims, Mode } from '@authlab/contract'
import type { FeedObserver, RevocationReader } from '@authlab/revocation'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'

export interface Principal {
  userId: string
  /** The login the credential belongs to, when it names one. */
  loginId?: string
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

/** What strategies are built from: compiled once at registration, shared by all of them. */
export interface StrategyContext {
  options: VerifyOptions
  log: FastifyBaseLogger
  reader: RevocationReader
  /** Full JWT verification (signature by `kid`, pinned alg, iss, aud, exp, required claims). */
  verifyAccessToken(request: FastifyRequest): Promise<AccessClaims>
  /** True once the JWKS has at least one key. */
  hasKeys(): boolean
  sessionCookie(request: FastifyRequest): string | undefined
  accessCookie(request: FastifyRequest): string | undefined
}

export interface VerifyOptions {
  issuer: string
  audience: string
  /** Pinned: tokens signed with anything else are rejected whatever their header says. */
  algorithm: 'EdDSA' | 'ES256' | 'RS256'
  jwksUrl: string
  /** Leeway for exp/iat between clocks (fast-jwt clockTolerance). */
  clockToleranceMs: number
  /** Tokens issued longer ago than this are refused whatever their exp says (fast-jwt maxAge). */
  maxAgeMs: number
  /** The JWKS is refetched this often; the fetched set replaces the cached one. */
  jwksRefreshMs: number
  authUrl: string
  cookieSecure: boolean
  /** Size of fast-jwt's verified-token cache; 0 turns it off. Revocation checks run after it. */
  verifyCacheSize: number
  sessionIdleTtlMs: number
  sessionCacheTtlMs: number
  sessionCacheMaxEntries: number
  pushedMaxStalenessMs: number
  /** jwt-denylist serves valid tokens while Redis is unreachable (never while it is not ready). */
  denylistFailOpen: boolean
  introspectTimeoutMs: number
  /** This service's introspection client credential (RFC 7662 §2.1: auth requires one). */
  introspectionClient: { id: string; secret: string }
  /** Told of jwt-pushed's feed: each revocation applied (its lag) and each resync. For metrics. */
  feedObserver?: FeedObserver
}
