import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import type { AuthConfig } from '../config.ts'
import { CurrentPasswordInvalidError, RateLimitedError, UnauthenticatedError } from '../errors.ts'
import { type AttemptOutcome, clientKey } from '../plugins/app/login-throttle.ts'
import { refuseWhenExceeded } from '../plugins/app/rate-limits.ts'
import { ErrorResponse, PasswordChangeBody } from '../schemas/auth.ts'
import { callerOf } from './caller.ts'

/**
 * POST /auth/password: a logged-in user changes their password, proving the current one. On success
 * every other login of the user is revoked and the caller's own is kept (OWASP Session Management
 * and Authentication cheat sheets). A wrong current password is a failed login attempt on the
 * account: it is counted by the login throttle (per account and address, reserved before argon2
 * judges it), so a stolen session cannot guess the password faster than the login form could.
 */
export default async function passwordRoutes(fastify: FastifyInstance, opts: { config: AuthConfig }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { config } = opts
  const caller = callerOf(fastify, config)

  // Every attempt per client address, as login and register are (their own count, the same budget).
  const perIp = fastify.createRateLimit({
    max: config.LOGIN_RATE_LIMIT_PER_IP,
    timeWindow: config.LOGIN_RATE_LIMIT_WINDOW_S * 1000,
    keyGenerator: (req) => `password-ip:${clientKey(req.ip)}`,
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
          204: Type.Null({ description: 'changed; every other login of the user revoked' }),
          400: ErrorResponse,
          401: ErrorResponse,
          403: ErrorResponse,
          429: ErrorResponse,
          503: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const { userId, loginId } = await caller(request)
      const account = await fastify.users.account(userId)
      if (!account) throw new UnauthenticatedError('The user no longer exists')
      const address = clientKey(request.ip)
      const wait = await fastify.loginThrottle.reserve(account.emailNormalized, address)
      if (wait > 0) {
        reply.header('retry-after', wait)
        throw new RateLimitedError(wait)
      }
      const settle = (outcome: AttemptOutcome) =>
        fastify.loginThrottle.settle(account.emailNormalized, address, outcome)
      const { currentPassword, newPassword } = request.body
      const revoked = await fastify.users
        .changePassword(userId, loginId, currentPassword, newPassword)
        .catch(async (err: unknown) => {
          await settle(err instanceof CurrentPasswordInvalidError ? 'failed' : 'not-judged').catch(() => {})
          throw err
        })
      await settle('succeeded').catch(() => {})
      if (revoked > 0) fastify.authMetrics.revocations.inc({ reason: 'password-change' })
      return reply.code(204).send(null)
    },
  )
}
