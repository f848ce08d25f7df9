import {
  ACCESS_TOKEN_TYPE,
  type AccessClaims,
  CSRF_HEADER,
  cookieNames,
  type Mode,
  REQUIRED_CLAIMS,
} from '@authlab/contract'
import { RevocationReader } from '@authlab/revocation'
import cookie from '@fastify/cookie'
import jwt from '@fastify/jwt'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { CsrfHeaderMissingError, UnauthorizedError, VerifyOptionsError } from './errors.ts'
import { JwksCache } from './jwks.ts'
import { introspectStrategy } from './strategies/introspect.ts'
import { jwtStrategy } from './strategies/jwt.ts'
import { jwtDenylistStrategy } from './strategies/jwt-denylist.ts'
import { jwtPushedStrategy } from './strategies/jwt-pushed.ts'
import { noneStrategy } from './strategies/none.ts'
import { sessionStrategy } from './strategies/session.ts'
import { sessionCachedStrategy } from './strategies/session-cached.ts'
import type { Principal, Strategy, StrategyContext, VerifyOptions } from './types.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** Every mode's strategy, built once at registration. */
    authStrategies: Readonly<Record<Mode, Strategy>>
    /** An onRequest hook that authenticates with `mode` and sets `request.user`, or fails 401/503. */
    authenticate(mode: Mode): onRequestAsyncHookHandler
    jwks: JwksCache
    revocationReader: RevocationReader
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessClaims
    user: Principal
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
    'jwksRefreshMs',
    'sessionCacheTtlMs',
    'sessionCacheMaxEntries',
    'pushedMaxStalenessMs',
    'introspectTimeoutMs',
    'sessionIdleTtlMs',
    'maxAgeMs',
  ] as const) {
    if (!(opts[key] > 0)) throw new VerifyOptionsError(`${key} must be positive`)
  }
  if (!opts.introspectionClient?.id || !opts.introspectionClient.secret) {
    throw new VerifyOptionsError('introspectionClient needs an id and a secret')
  }
  if (!(opts.clockToleranceMs >= 0 && opts.clockToleranceMs <= 60_000)) {
    throw new VerifyOptionsError('clockToleranceMs must be between 0 and 60000')
  }
  if (!(opts.verifyCacheSize >= 0)) throw new VerifyOptionsError('verifyCacheSize must be 0 or more')
}

async function verifyPlugin(fastify: FastifyInstance, opts: VerifyOptions) {
  validate(opts)
  const names = cookieNames(opts.cookieSecure)
  const jwks = new JwksCache(opts.jwksUrl, opts.algorithm, fastify.log, { refreshMs: opts.jwksRefreshMs })
  // Do not block start on auth: JWT modes answer 401/503 until the keys arrive, then cache them.
  await jwks.refresh()
  jwks.start()

  if (!fastify.hasDecorator('parseCookie')) await fastify.register(cookie)
  await fastify.register(jwt, {
    // Called with the decoded header on every verification, before fast-jwt's token cache: a
    // `kid` withdrawn from the JWKS stops verifying even for a cached token. The key comes only
    // from the key set by `kid`; @fastify/jwt compiles one verifier per key and reuses it.
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
      clockTolerance: opts.clockToleranceMs,
      // @fastify/jwt reads a numeric maxAge as seconds (and hands fast-jwt milliseconds).
      maxAge: opts.maxAgeMs / 1000,
      // Signature checks are the CPU cost of the JWT modes; a reused token skips them. Revocation
      // checks (denylist, pushed set) run after this, so a cached token is still revocable.
      ...(opts.verifyCacheSize > 0 ? { cache: opts.verifyCacheSize } : {}),
    },
    cookie: { cookieName: names.access, signed: false },
  })

  const reader = new RevocationReader(fastify.redis, {
    onError: (err) => fastify.log.debug({ err: err.message }, 'revocation readiness check failed'),
  })
  reader.start()

  const ctx: StrategyContext = {
    options: opts,
    log: fastify.log,
    reader,
    hasKeys: () => jwks.size > 0,
    sessionCookie: (request) => request.cookies[names.session],
    accessCookie: (request) => request.cookies[names.access],
    async verifyAccessToken(request) {
      try {
        // @fastify/jwt types the result as FastifyJWT['user']; what it returns is the payload.
        return (await request.jwtVerify()) as unknown as AccessClaims
      } catch (err) {
        // Every way a token can be wrong (malformed header, bad signature, expired, wrong iss/aud,
        // unknown kid, alg confusion) is the same 401 to the client; the error handler logs why.
        const e = err as { code?: string; statusCode?: number; message: string }
        if (e.statusCode && e.statusCode >= 500) throw err
        const reason = e.code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED' ? 'token expired' : 'invalid token'
        throw new UnauthorizedError(reason, { cause: err })
      }
    },
  }

  const strategies: Record<Mode, Strategy> = {
    none: noneStrategy(),
    jwt: jwtStrategy(ctx),
    session: sessionStrategy(ctx),
    'session-cached': sessionCachedStrategy(ctx),
    'jwt-denylist': jwtDenylistStrategy(ctx),
    'jwt-pushed': jwtPushedStrategy(ctx, fastify.redis),
    introspect: introspectStrategy(ctx),
  }

  fastify.decorate('jwks', jwks)
  fastify.decorate('revocationReader', reader)
  fastify.decorate('authStrategies', Object.freeze(strategies))
  /**
   * The CSRF rule for every route this plugin guards: a state-changing request (not GET, HEAD or
   * OPTIONS) whose credential the browser attached by itself, a cookie, must also carry the
   * x-authlab-csrf header, which a cross-site form cannot send and a cross-site script cannot without
   * a CORS preflight that authlab never grants (OWASP CSRF cheat sheet, custom request headers).
   * A Bearer token is never attached by the browser, so it needs no proof.
   */
  const cookieAuthenticated = (strategy: Strategy, request: FastifyRequest) =>
    strategy.challenge === 'Cookie' || request.headers.authorization === undefined
  const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

  fastify.decorate('authenticate', (mode: Mode) => {
    const strategy = strategies[mode]
    const challenge = `${strategy.challenge} realm="authlab"`
    return async function authenticate(request: FastifyRequest, reply: FastifyReply) {
      if (
        mode !== 'none' &&
        !SAFE_METHODS.has(request.method) &&
        cookieAuthenticated(strategy, request) &&
        request.headers[CSRF_HEADER] === undefined
      ) {
        throw new CsrfHeaderMissingError(CSRF_HEADER)
      }
      try {
        request.user = await strategy.authenticate(request)
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 401) reply.header('www-authenticate', challenge)
        throw err
      }
    }
  })
  fastify.addHook('onClose', async () => {
    jwks.close()
    reader.close()
    await Promise.all(Object.values(strategies).map((s) => s.close?.()))
  })
}

export const verify = fp(verifyPlugin, {
  name: 'authlab-verify',
  fastify: '5.x',
  dependencies: ['authlab-redis'],
})
