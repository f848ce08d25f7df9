import { ACCESS_TOKEN_TYPE, type AccessClaims, cookieNames, REQUIRED_CLAIMS } from '@authlab/contract'
import cookie from '@fastify/cookie'
import jwt from '@fastify/jwt'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { UnauthorizedError, VerifyOptionsError } from './errors.ts'
import { JwksCache } from './jwks.ts'
import type { VerifyOptions } from './types.ts'

declare module 'fastify' {
  interface FastifyInstance {
    verifyOptions: VerifyOptions
    jwks: JwksCache
    /** Full JWT verification (signature by `kid`, pinned alg, iss, aud, exp, required claims). */
    verifyAccessToken(request: FastifyRequest): Promise<AccessClaims>
    /** The `sid` cookie, if any. */
    sessionCookie(request: FastifyRequest): string | undefined
    /** The `access_token` cookie, if any. */
    accessCookie(request: FastifyRequest): string | undefined
  }
}

function validate(opts: VerifyOptions): void {
  for (const key of ['issuer', 'audience', 'jwksUrl', 'authUrl'] as const) {
    if (!opts[key]) throw new VerifyOptionsError(`${key} is required`)
  }
  if (!['EdDSA', 'ES256', 'RS256'].includes(opts.algorithm)) {
    throw new VerifyOptionsError(`algorithm must be EdDSA, ES256 or RS256, not ${opts.algorithm}`)
  }
  for (const key of [
    'sessionCacheTtlMs',
    'pushedMaxStalenessMs',
    'introspectTimeoutMs',
    'sessionIdleTtlMs',
  ] as const) {
    if (!(opts[key] > 0)) throw new VerifyOptionsError(`${key} must be positive`)
  }
}

async function verifyCore(fastify: FastifyInstance, opts: VerifyOptions) {
  validate(opts)
  const names = cookieNames(opts.cookieSecure)
  const jwks = new JwksCache(opts.jwksUrl, opts.algorithm, fastify.log)
  // Do not block start on auth: JWT modes answer 401/503 until the keys arrive, then cache them.
  await jwks.refresh()

  if (!fastify.hasDecorator('parseCookie')) await fastify.register(cookie)
  await fastify.register(jwt, {
    // Called with the decoded header; the key comes only from the JWKS by `kid`. @fastify/jwt
    // compiles one verifier per key and reuses it, so nothing is compiled per request.
    secret: async (_request: FastifyRequest, token: unknown) => {
      const { header } = token as { header: { kid?: unknown; typ?: unknown } }
      if (header.typ !== ACCESS_TOKEN_TYPE) throw new UnauthorizedError('not an access token (typ)')
      if (typeof header.kid !== 'string') throw new UnauthorizedError('token has no kid')
      const key = await jwks.key(header.kid)
      if (!key) throw new UnauthorizedError('unknown signing key')
      return key
    },
    decode: { complete: true },
    verify: {
      algorithms: [opts.algorithm],
      allowedIss: opts.issuer,
      allowedAud: opts.audience,
      requiredClaims: [...REQUIRED_CLAIMS],
      // Signature checks are the CPU cost of the JWT modes; a reused token skips them. Revocation
      // checks (denylist, pushed set) run after this, so a cached token is still revocable.
      ...(opts.verifyCacheSize > 0 ? { cache: opts.verifyCacheSize } : {}),
    },
    cookie: { cookieName: names.access, signed: false },
  })

  fastify.decorate('verifyOptions', opts)
  fastify.decorate('jwks', jwks)
  fastify.decorate('authStrategies', new Map())
  fastify.decorate('verifyAccessToken', async (request: FastifyRequest) => {
    try {
      return await request.jwtVerify<AccessClaims>()
    } catch (err) {
      // Every way a token can be wrong (malformed header, bad signature, expired, wrong iss/aud,
      // unknown kid, alg confusion) is the same 401 to the client; the reason goes to the log.
      const e = err as { code?: string; statusCode?: number; message: string }
      if (e.statusCode && e.statusCode >= 500) throw err
      throw new UnauthorizedError(
        e.code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED' ? 'token expired' : 'invalid token',
      )
    }
  })
  fastify.decorate('sessionCookie', (request: FastifyRequest) => request.cookies[names.session])
  fastify.decorate('accessCookie', (request: FastifyRequest) => request.cookies[names.access])
}

export const verifyPlugin = fp(verifyCore, {
  name: 'authlab-verify-core',
  fastify: '5.x',
  dependencies: ['authlab-redis'],
})
