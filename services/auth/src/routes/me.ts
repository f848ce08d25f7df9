import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import type { AuthConfig } from '../config.ts'
import { UnauthenticatedError } from '../errors.ts'
import { ErrorResponse, MeView } from '../schemas/auth.ts'
import { bearerChallenge, callerOf } from './caller.ts'

/** GET /auth/me: the caller's own account. A GET changes nothing, so a cookie caller needs no CSRF proof. */
export default async function meRoutes(fastify: FastifyInstance, opts: { config: AuthConfig }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const caller = callerOf(fastify, opts.config)

  app.get(
    '/auth/me',
    {
      schema: {
        tags: ['auth'],
        security: [{ bearer: [] }, { sessionCookie: [] }],
        response: { 200: MeView, 400: ErrorResponse, 401: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request, reply) => {
      const { userId } = await caller(request, reply)
      const account = await fastify.users.account(userId)
      if (!account) {
        reply.header('www-authenticate', bearerChallenge(true))
        throw new UnauthenticatedError('The user no longer exists')
      }
      return { userId: account.id, username: account.email, roles: account.roles }
    },
  )
}
