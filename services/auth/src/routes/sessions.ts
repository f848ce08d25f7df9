import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import type { AuthConfig } from '../config.ts'
import { SessionNotFoundError } from '../errors.ts'
import { ErrorResponse, SessionList, SessionParams } from '../schemas/auth.ts'
import { callerOf } from './caller.ts'

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 503: ErrorResponse }
const security: Array<Record<string, string[]>> = [{ bearer: [] }, { sessionCookie: [] }]

/**
 * Sessions and devices (OWASP Session Management cheat sheet): the caller lists their live logins
 * and ends any of them, or all but their own. The caller is resolved as for the other account
 * routes (caller.ts): a cookie caller of DELETE or POST needs the CSRF header. Every revocation
 * goes through the revocation store as logout's does, so every verification mode refuses the
 * ended login within its bound.
 */
export default async function sessionRoutes(fastify: FastifyInstance, opts: { config: AuthConfig }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const caller = callerOf(fastify, opts.config)

  app.get(
    '/auth/sessions',
    {
      schema: {
        tags: ['auth'],
        summary: "The caller's live logins; none of their secrets",
        security,
        response: { 200: SessionList, ...errors },
      },
    },
    async (request, reply) => {
      const { userId, loginId } = await caller(request, reply)
      const logins = await fastify.credentials.liveLogins(userId)
      return {
        sessions: logins.map((l) => ({
          id: l.publicId,
          createdAt: l.createdAt.toISOString(),
          lastUsedAt: l.lastUsedAt.toISOString(),
          userAgent: l.userAgent,
          address: l.address,
          current: l.loginId === loginId,
        })),
      }
    },
  )

  app.delete(
    '/auth/sessions/:id',
    {
      schema: {
        tags: ['auth'],
        summary: "Ends one of the caller's logins (the caller's own too: a logout)",
        security,
        params: SessionParams,
        response: {
          204: Type.Null({ description: 'the login is revoked' }),
          404: ErrorResponse,
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { userId } = await caller(request, reply)
      if (!(await fastify.revocations.endSession(userId, request.params.id))) throw new SessionNotFoundError()
      fastify.authMetrics.revocations.inc({ reason: 'session-end' })
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/auth/logout-others',
    {
      schema: {
        tags: ['auth'],
        summary: "Ends every login of the caller's user but the caller's own",
        security,
        response: { 204: Type.Null({ description: 'every other login revoked' }), ...errors },
      },
    },
    async (request, reply) => {
      const { userId, loginId } = await caller(request, reply)
      const revoked = await fastify.revocations.logoutOthers(userId, loginId)
      if (revoked > 0) fastify.authMetrics.revocations.inc({ reason: 'logout-others' })
      return reply.code(204).send(null)
    },
  )
}
