import {
  type AccessClaims,
  assertCsrfProof,
  cookieNames,
  presentedCredential,
  REFRESH_COOKIE_PATH,
} from '@authlab/contract'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { AuthConfig } from '../config.ts'
import { InvalidCredentialsError, RateLimitedError, UnauthenticatedError } from '../errors.ts'
import { type AttemptOutcome, clientKey } from '../plugins/app/login-throttle.ts'
import { limitKeys } from '../plugins/app/rate-limits.ts'
import type { LoginRef } from '../plugins/app/revocations.ts'
import { normalizeEmail } from '../plugins/app/users.ts'
import {
  Credentials,
  ErrorResponse,
  LoginBody,
  LoginResponse,
  RefreshBody,
  TokenPair,
  UserView,
} from '../schemas/auth.ts'
import adminRoutes from './admin.ts'
import { cookieOptions, loginReply } from './login-reply.ts'
import meRoutes from './me.ts'
import passwordRoutes from './password.ts'
import revokeRoutes from './revoke.ts'
import sessionRoutes from './sessions.ts'

const errors = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  429: ErrorResponse,
  503: ErrorResponse,
}

export default async function authRoutes(fastify: FastifyInstance, opts: { config: AuthConfig }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { config } = opts
  const names = cookieNames(config.COOKIE_SECURE)
  const { base: cookieBase, refresh: refreshCookie } = cookieOptions(config)
  const sendLogin = loginReply(config)

  // RFC 6749 §5.1: a response carrying a credential is never stored by a cache or the browser.
  fastify.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
  })

  const verifyAccess = (token: string): AccessClaims => {
    try {
      return fastify.keys.verify(token)
    } catch {
      throw new UnauthenticatedError('Access token is invalid or expired')
    }
  }

  /**
   * The live login a request's credential belongs to: Bearer JWT (@authlab/contract's rule: another
   * scheme is not ours and leaves the credential to the cookies), then a refresh token in the body,
   * then the cookies, which need the CSRF header (the contract's rule too). A revoked, expired or spent credential authorises nothing, not even a logout: a stolen
   * old token must not be able to log its owner out everywhere. Postgres decides liveness.
   */
  async function resolveLogin(
    request: FastifyRequest,
  ): Promise<LoginRef & { jti?: { jti: string; exp: number } }> {
    const ref = await presentedLogin(request)
    if (!(await fastify.revocations.isLive(ref.loginId))) {
      throw new UnauthenticatedError('The credential has been revoked')
    }
    return ref
  }

  async function presentedLogin(
    request: FastifyRequest,
  ): Promise<LoginRef & { jti?: { jti: string; exp: number } }> {
    const fromClaims = (claims: AccessClaims) => ({
      loginId: claims.sid,
      userId: claims.sub,
      jti: { jti: claims.jti, exp: claims.exp },
    })
    const cookies = request.cookies
    const sid = cookies[names.session]
    const access = cookies[names.access]
    const refresh = cookies[names.refresh]
    const credential = presentedCredential(request.headers.authorization, sid || access || refresh)
    if (credential.source === 'malformed') {
      throw new UnauthenticatedError('Authorization must be "Bearer <token>"')
    }
    if (credential.source === 'bearer') return fromClaims(verifyAccess(credential.token))
    const bodyRefresh = (request.body as { refreshToken?: string } | undefined)?.refreshToken
    if (bodyRefresh) {
      const ref = await fastify.credentials.refreshTokenLogin(bodyRefresh)
      if (ref) return ref
      throw new UnauthenticatedError('Refresh token is invalid')
    }
    assertCsrfProof(request.method, credential.source, request.headers)
    if (sid) {
      const ref = await fastify.credentials.sessionLogin(sid)
      if (ref) return ref
    }
    if (access) return fromClaims(verifyAccess(access))
    if (refresh) {
      const ref = await fastify.credentials.refreshTokenLogin(refresh)
      if (ref) return ref
    }
    throw new UnauthenticatedError('No valid credential')
  }

  const clearCookies = (reply: FastifyReply) => {
    reply
      .clearCookie(names.session, cookieBase)
      .clearCookie(names.access, cookieBase)
      .clearCookie(names.refresh, { ...cookieBase, path: REFRESH_COOKIE_PATH })
  }

  // Every attempt counts against the client's address (the plugin, shared through Redis by every
  // replica); against the account, an attempt is reserved before the password is checked and
  // kept only if it failed (see LoginThrottle).
  const window = config.LOGIN_RATE_LIMIT_WINDOW_S * 1000
  const perIp = fastify.createRateLimit({
    max: config.LOGIN_RATE_LIMIT_PER_IP,
    timeWindow: window,
    keyGenerator: limitKeys.login,
  })
  const loginLimits = async (request: FastifyRequest, reply: FastifyReply) => {
    const result = await perIp(request)
    const wait =
      !result.isAllowed && result.isExceeded
        ? result.ttlInSeconds
        : await fastify.loginThrottle.reserve(accountOf(request), clientKey(request.ip))
    if (wait > 0) {
      reply.header('retry-after', wait)
      throw new RateLimitedError(wait)
    }
  }
  const accountOf = (request: FastifyRequest) => normalizeEmail((request.body as { email: string }).email)

  app.post(
    '/auth/register',
    {
      schema: {
        tags: ['auth'],
        body: Credentials,
        response: { 201: UserView, 409: ErrorResponse, ...errors },
      },
      config: {
        rateLimit: {
          max: config.LOGIN_RATE_LIMIT_PER_IP,
          timeWindow: window,
          keyGenerator: limitKeys.register,
        },
      },
    },
    async (request, reply) => {
      const user = await fastify.users.register(request.body.email, request.body.password)
      return reply.code(201).send(user)
    },
  )

  app.post(
    '/auth/login',
    {
      schema: { tags: ['auth'], body: LoginBody, response: { 200: LoginResponse, ...errors } },
      preHandler: loginLimits,
      onResponse: fastify.authMetrics.countOutcome(fastify.authMetrics.logins),
    },
    async (request, reply) => {
      const settle = (outcome: AttemptOutcome) =>
        fastify.loginThrottle.settle(accountOf(request), clientKey(request.ip), outcome)
      const user = await fastify.users
        .authenticate(request.body.email, request.body.password)
        .catch(async (err: unknown) => {
          await settle(err instanceof InvalidCredentialsError ? 'failed' : 'not-judged').catch(() => {})
          throw err
        })
      await settle('succeeded')
      const issued = await fastify.credentials.login(user, {
        userAgent: request.headers['user-agent'] ?? null,
        address: clientKey(request.ip),
      })
      return sendLogin(request, reply, issued, user, request.body.rememberMe)
    },
  )

  // The credential may come in a header or cookie with no body at all; validate an absent body as {}.
  const optionalBody = async (request: FastifyRequest) => {
    request.body ??= {}
  }

  app.post(
    '/auth/refresh',
    {
      preValidation: optionalBody,
      schema: { tags: ['auth'], body: RefreshBody, response: { 200: TokenPair, ...errors } },
      onResponse: fastify.authMetrics.countOutcome(fastify.authMetrics.refreshes),
    },
    async (request, reply) => {
      const fromBody = request.body?.refreshToken
      const token = fromBody ?? request.cookies[names.refresh]
      if (!token) throw new UnauthenticatedError('No refresh token')
      if (!fromBody) assertCsrfProof(request.method, 'cookie', request.headers)
      const pair = await fastify.credentials.refresh(token)
      reply
        .setCookie(names.access, pair.accessToken, { ...cookieBase, maxAge: pair.expiresIn })
        .setCookie(names.refresh, pair.refreshToken, refreshCookie)
      // A cookie client gets its new refresh token only as a cookie, out of reach of page scripts.
      const { refreshToken, ...access } = pair
      return { ...access, ...(fromBody ? { refreshToken } : {}), tokenType: 'Bearer' as const }
    },
  )

  // logout and logout-all take the same credentials and answer the same way.
  const revokeRoute = {
    preValidation: optionalBody,
    schema: {
      tags: ['auth'],
      body: RefreshBody,
      response: { 204: Type.Null({ description: 'revoked' }), ...errors },
    },
  }

  app.post('/auth/logout', revokeRoute, async (request, reply) => {
    const ref = await resolveLogin(request)
    await fastify.revocations.logout(ref, ref.jti)
    fastify.authMetrics.revocations.inc({ reason: 'logout' })
    clearCookies(reply)
    return reply.code(204).send(null)
  })

  app.post('/auth/logout-all', revokeRoute, async (request, reply) => {
    const ref = await resolveLogin(request)
    await fastify.revocations.logoutAll(ref.userId)
    fastify.authMetrics.revocations.inc({ reason: 'logout-all' })
    clearCookies(reply)
    return reply.code(204).send(null)
  })

  // RFC 7009 revocation, the caller's account, the password change and sessions: under this scope's no-store.
  await fastify.register(revokeRoutes, { config })
  await fastify.register(meRoutes, { config })
  await fastify.register(passwordRoutes, { config })
  await fastify.register(sessionRoutes, { config })
  await fastify.register(adminRoutes, { config })
}
