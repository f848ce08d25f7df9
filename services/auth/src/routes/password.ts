import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import type { AuthConfig } from '../config.ts'
import { CurrentPasswordInvalidError, RateLimitedError, UnauthenticatedError } from '../errors.ts'
import { type AttemptOutcome, clientKey } from '../plugins/app/login-throttle.ts'
import { limitKeys, refuseWhenExceeded } from '../plugins/app/rate-limits.ts'
import { ErrorResponse, LoginResponse, PasswordChangeBody } from '../schemas/auth.ts'
import { bearerChallenge, callerOf } from './caller.ts'
import { loginReply } from './login-reply.ts'

/**
 * POST /auth/password: a logged-in user changes their password, proving the current one. On success
 * every login of the user is revoked, the caller's own included, and the caller gets a fresh login
 * in the same transaction, answered as /auth/login answers (OWASP Session Management cheat sheet:
 * renew the session after a change of credentials; a thief holding this device's cookie or tokens
 * is logged out too). A wrong current password is a 403 (the caller's token is fine: no 401 that a
 * client would take for a dead token) and a failed login attempt on the account: it is counted by
 * the login throttle (per account and address, reserved before argon2 judges it), so a stolen
 * session cannot guess the password faster than the login form could.
 */
export default async function passwordRoutes(fastify: FastifyInstance, opts: { config: AuthConfig }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { config } = opts
  const caller = callerOf(fastify, config)
  const sendLogin = loginReply(config)

  // Every attempt per client address, as login and register are (their own count, the same budget).
  const perIp = fastify.createRateLimit({
    max: config.LOGIN_RATE_LIMIT_PER_IP,
    timeWindow: config.LOGIN_RATE_LIMIT_WINDOW_S * 1000,
    keyGenerator: limitKeys.password,
  })
  const addressLimit = refuseWhenExceeded(perIp)

  app.post(
    '/auth/password',
    {
      preHandler: addressLimit,
      schema: {
        tags: ['auth'],
        security: [{ bearer: [] }, { sessionCookie: [] }],
        body: PasswordChangeBody,
        response: {
          200: LoginResponse,
          400: ErrorResponse,
          401: ErrorResponse,
          403: ErrorResponse,
          429: ErrorResponse,
          503: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const { userId, loginId } = await caller(request, reply)
      const account = await fastify.users.account(userId)
      if (!account) {
        reply.header('www-authenticate', bearerChallenge(true))
        throw new UnauthenticatedError('The user no longer exists')
      }
      const address = clientKey(request.ip)
      const wait = await fastify.loginThrottle.reserve(account.emailNormalized, address)
      if (wait > 0) {
        reply.header('retry-after', wait)
        throw new RateLimitedError(wait)
      }
      const settle = (outcome: AttemptOutcome) =>
        fastify.loginThrottle.settle(account.emailNormalized, address, outcome)
      const { currentPassword, newPassword } = request.body
      const user = { id: account.id, email: account.email }
      const device = { userAgent: request.headers['user-agent'] ?? null, address }
      const { revoked, renewed } = await fastify.users
        .changePassword(userId, loginId, currentPassword, newPassword, (db) =>
          fastify.credentials.loginWithin(db, user, device),
        )
        .catch(async (err: unknown) => {
          await settle(err instanceof CurrentPasswordInvalidError ? 'failed' : 'not-judged').catch(() => {})
          // Revoked meanwhile, or the user gone: the token is refused (a wrong password is a 403).
          if (err instanceof UnauthenticatedError) reply.header('www-authenticate', bearerChallenge(true))
          throw err
        })
      await settle('succeeded').catch(() => {})
      if (revoked > 0) fastify.authMetrics.revocations.inc({ reason: 'password-change' })
      // The renewed login, handed over exactly as /auth/login hands over a login.
      return reply.code(200).send(sendLogin(request, reply, renewed, user, undefined))
    },
  )
}
