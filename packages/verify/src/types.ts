import type { Mode } from '@authlab/contract'
import type { FastifyRequest } from 'fastify'

export interface Principal {
  sub: string
  /** the login (JWT `sid` claim / session record) when the credential names one */
  lid?: string
}

/** What every strategy plugin registers: one way of turning a request into a principal or an error. */
export interface Strategy {
  readonly mode: Mode
  authenticate(request: FastifyRequest): Promise<Principal>
}

export interface VerifyOptions {
  issuer: string
  audience: string
  /** Pinned: tokens signed with anything else are rejected whatever their header says. */
  algorithm: 'EdDSA' | 'ES256' | 'RS256'
  jwksUrl: string
  authUrl: string
  cookieSecure: boolean
  /** Size of fast-jwt's verified-token cache; 0 turns it off. Revocation checks run after it. */
  verifyCacheSize: number
  sessionIdleTtlMs: number
  sessionCacheTtlMs: number
  sessionCacheMaxEntries: number
  pushedMaxStalenessMs: number
  denylistFailOpen: boolean
  introspectTimeoutMs: number
}

declare module 'fastify' {
  interface FastifyInstance {
    authStrategies: Map<Mode, Strategy>
  }
}
