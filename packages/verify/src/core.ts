import {
  ACCESS_TOKEN_TYPE,
  type AccessClaims,
  assertCsrfProof,
  type CredentialSource,
  cookieNames,
  csrfSafeMethod,
  type Mode,
  presentedCredential,
  REQUIRED_CLAIMS,
} from '@authlab/contract'
import { RevocationReader } from '@authlab/revocation'
import cookie from '@fastify/cookie'
import { createVerifier, TokenError } from 'fast-jwt'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { credentialToken, ModeNotRegisteredError, UnauthorizedError, VerifyOptionsError } from './errors.ts'
import { JwksCache } from './jwks.ts'
import { modeOption, validateOptions } from './options.ts'
import { STRATEGIES } from './strategies/index.ts'
import type { Principal, RedisStrategyContext, Strategy, StrategyContext, VerifyOptions } from './types.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The registered modes' strategies (the `modes` option; every mode by default), built once at
     * registration. Typed for the default: a mode left out of `modes` has no entry here.
     */
    authStrategies: Readonly<Record<Mode, Strategy>>
    /**
     * An onRequest hook that authenticates with `mode` and sets `request.user`, or fails 401/503.
     * Throws ModeNotRegisteredError at once (when the route is defined) for a mode not registered.
     */
    authenticate(mode: Mode): onRequestAsyncHookHandler
    jwks: JwksCache<KeyVerifiers>
    /** Decorated only when a mode that reads Redis is registered (session, session-cached, jwt-denylist, jwt-pushed). */
    revocationReader: RevocationReader
  }
  interface FastifyRequest {
    /** Who the route's strategy authenticated (set by `authenticate`). */
    user: Principal
  }
}

/** fast-jwt's verifier for one key of the set, compiled once when the key arrives. */
type TokenVerifier = (token: string) => AccessClaims
/** A key's verifiers: for public access tokens, and for internal ones when phantom is registered. */
interface KeyVerifiers {
  public: TokenVerifier
  internal: TokenVerifier | undefined
}
type Audience = 'public' | 'internal'

/** At most this many distinct JWT headers are remembered (one per key and algorithm in practice). */
const MAX_KNOWN_HEADERS = 16

/** The `kid` of a token's header, after the header's own checks (RFC 8725 §3.11: explicit typ). */
function headerKid(segment: string): string {
  let header: unknown
  try {
    header = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
  } catch {
    throw new UnauthorizedError('malformed header')
  }
  const { kid, typ } = (header ?? {}) as { kid?: unknown; typ?: unknown }
  if (typ !== ACCESS_TOKEN_TYPE) throw new UnauthorizedError('not an access token (typ)')
  if (typeof kid !== 'string') throw new UnauthorizedError('token has no kid')
  return kid
}

async function verifyPlugin(fastify: FastifyInstance, opts: VerifyOptions) {
  const modes = validateOptions(opts)
  // Only the modes that read Redis need it: without one of them, no Redis client is asked for.
  const redisModes = [...modes].filter((mode) => STRATEGIES[mode].redis)
  if (redisModes.length > 0 && !fastify.hasDecorator('redis')) {
    throw new VerifyOptionsError(
      `modes ${redisModes.join(', ')} read Redis: register redisClient (@authlab/clients) before verify, or leave them out of modes`,
    )
  }
  const names = cookieNames(opts.cookieSecure)
  // One fast-jwt verifier per key of the set, compiled when the key arrives and kept while the key
  // is unchanged: algorithm pinned, iss/aud/exp/maxAge and the required claims checked. Its cache
  // is keyed by the token string itself rather than fast-jwt's default SHA-256 of it: a hit then
  // costs one map lookup, and a string key cannot collide (the bench's profile: the hash was the
  // largest part of a cached verification). The cache holds at most verifyCacheSize tokens.
  // fast-jwt warns about any custom key (GHSA-rp9m-7r4c-75qg: a key built from part of a token,
  // such as its `sub`, lets one token answer for another); the whole token is the one key that
  // cannot, so the services start with --disable-warning for that code (cluster runner, image).
  const compileFor =
    (audience: string) =>
    (pem: string): TokenVerifier =>
      createVerifier({
        key: pem,
        algorithms: [opts.algorithm],
        allowedIss: opts.issuer,
        allowedAud: audience,
        requiredClaims: [...REQUIRED_CLAIMS],
        clockTolerance: opts.clockToleranceMs,
        maxAge: opts.maxAgeMs,
        ...(opts.verifyCacheSize > 0
          ? { cache: opts.verifyCacheSize, cacheKeyBuilder: (token: string) => token }
          : {}),
      }) as TokenVerifier
  const compilePublic = compileFor(opts.audience)
  // The phantom mode's tokens get verifiers of their own, pinned to the internal audience and
  // compiled with the key: one verifier never accepts both audiences, so neither kind of token can
  // pass where the other is required, and the per-request path compiles nothing.
  const compileInternal = modes.has('phantom') ? compileFor(modeOption(opts, 'internalAudience')) : undefined
  const compile = (pem: string): KeyVerifiers => ({
    public: compilePublic(pem),
    internal: compileInternal?.(pem),
  })
  const jwks = new JwksCache<KeyVerifiers>(opts.jwksUrl, opts.algorithm, fastify.log, {
    refreshMs: opts.jwksRefreshMs,
    compile,
  })
  // Do not block start on auth: JWT modes answer 401/503 until the keys arrive, then cache them.
  await jwks.refresh()
  jwks.start()

  if (!fastify.hasDecorator('parseCookie')) await fastify.register(cookie)
  fastify.decorateRequest('user', null as unknown as Principal)

  // Header segment → kid, for headers already parsed and checked whose kid was in the key set.
  // Every token of one key shares its header, so this spares a base64 decode and a JSON.parse per
  // request; it is bounded, and a header naming an unknown kid is never remembered.
  const knownHeaders = new Map<string, string>()
  /**
   * The key comes only from the key set, by `kid`, looked up on every verification (before
   * fast-jwt's cache): a `kid` withdrawn from the JWKS stops verifying, cached tokens included.
   */
  async function verifyToken(token: string, audience: Audience): Promise<AccessClaims> {
    const dot = token.indexOf('.')
    if (dot <= 0) throw new UnauthorizedError('not a JWS compact token')
    const segment = token.slice(0, dot)
    const remembered = knownHeaders.get(segment)
    const kid = remembered ?? headerKid(segment)
    const verifier = (jwks.current(kid) ?? (await jwks.key(kid)))?.[audience]
    if (!verifier) throw new UnauthorizedError('unknown signing key')
    const claims = verifier(token)
    // Present is not enough: a string would pass `roles.includes('admin')` for "badminton".
    if (!Array.isArray(claims.roles) || !claims.roles.every((r) => typeof r === 'string')) {
      throw new UnauthorizedError('roles claim is not a list of strings')
    }
    // Only a header that carried a verified token is remembered, so made-up variants of a real
    // header cannot take the places; when the places are full (rotated keys), start over.
    if (remembered === undefined) {
      if (knownHeaders.size >= MAX_KNOWN_HEADERS) knownHeaders.clear()
      knownHeaders.set(segment, kid)
    }
    return claims
  }

  /**
   * Every way a token can be wrong (malformed header, bad signature, expired, wrong iss/aud,
   * unknown kid, alg confusion) is the same 401 to the client; the error handler logs why.
   */
  async function checked(verification: () => Promise<AccessClaims>): Promise<AccessClaims> {
    try {
      return await verification()
    } catch (err) {
      if (!(err instanceof TokenError || err instanceof UnauthorizedError)) throw err
      const reason =
        err instanceof TokenError && err.code === TokenError.codes.expired ? 'token expired' : 'invalid token'
      throw new UnauthorizedError(reason, { cause: err })
    }
  }

  const ctx: StrategyContext = {
    options: opts,
    log: fastify.log,
    hasKeys: () => jwks.size > 0,
    sessionCookie: (request) => request.cookies[names.session],
    accessCookie: (request) => request.cookies[names.access],
    verifyAccessToken: (request) =>
      checked(() =>
        verifyToken(
          credentialToken(presentedCredential(request.headers.authorization, ctx.accessCookie(request))),
          'public',
        ),
      ),
    // The gateway overwrites Authorization with the exchange's token: no cookie is looked at.
    verifyInternalToken: (request) =>
      checked(() =>
        verifyToken(
          credentialToken(presentedCredential(request.headers.authorization, undefined)),
          'internal',
        ),
      ),
  }

  // The revocation reader (and through it every Redis read) exists only for the modes that need it.
  let reader: RevocationReader | undefined
  let redisCtx: RedisStrategyContext | undefined
  if (redisModes.length > 0) {
    reader = new RevocationReader(fastify.redis, {
      onError: (err) => fastify.log.debug({ err: err.message }, 'revocation readiness check failed'),
    })
    reader.start()
    redisCtx = { ...ctx, redis: fastify.redis, reader }
    fastify.decorate('revocationReader', reader)
  }

  const strategies: Partial<Record<Mode, Strategy>> = {}
  for (const mode of modes) {
    const builder = STRATEGIES[mode]
    // redisCtx exists whenever a registered mode reads Redis (redisModes above).
    strategies[mode] = builder.redis ? builder.build(redisCtx as RedisStrategyContext) : builder.build(ctx)
  }
  const registered = Object.keys(strategies).join(', ')

  fastify.decorate('jwks', jwks)
  fastify.decorate('authStrategies', Object.freeze(strategies) as Readonly<Record<Mode, Strategy>>)
  /**
   * Where a strategy's credential comes from, for @authlab/contract's CSRF rule (assertCsrfProof):
   * a Cookie strategy reads the session cookie alone; a Bearer one reads the Authorization header by
   * the contract's credential rule, else a cookie (introspect: the access cookie, else the session's).
   */
  const credentialSource = (strategy: Strategy, request: FastifyRequest): CredentialSource | 'malformed' => {
    const session = ctx.sessionCookie(request)
    if (strategy.challenge === 'Cookie') return session ? 'cookie' : 'none'
    return presentedCredential(request.headers.authorization, ctx.accessCookie(request) ?? session).source
  }

  fastify.decorate('authenticate', (mode: Mode) => {
    const strategy = Object.hasOwn(strategies, mode) ? strategies[mode] : undefined
    if (!strategy) throw new ModeNotRegisteredError(String(mode), registered)
    const challenge = `${strategy.challenge} realm="authlab"`
    return async function authenticate(request: FastifyRequest, reply: FastifyReply) {
      // The safe-method test first: a GET, the hot path, never looks at its credential twice.
      if (mode !== 'none' && !csrfSafeMethod(request.method)) {
        assertCsrfProof(request.method, credentialSource(strategy, request), request.headers)
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
    reader?.close()
    await Promise.all(Object.values(strategies).map((s) => s.close?.()))
  })
}

/**
 * The plugin. It declares no dependency on @authlab/clients' redisClient: only the modes that read
 * Redis need it, and registration checks for it when one of them is registered.
 */
export const verify = fp(verifyPlugin, { name: 'authlab-verify', fastify: '5.x' })
