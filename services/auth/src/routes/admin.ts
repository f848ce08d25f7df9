import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuthConfig } from '../config.ts'
import { DisabledView, ErrorResponse, RolesBody, RolesView, UserParams } from '../schemas/auth.ts'
import type { Caller } from './caller.ts'
import { callerOf } from './caller.ts'

const errors = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  503: ErrorResponse,
} as const

/**
 * An admin's changes to a user (the admin CLI does the same from a shell: `pnpm --filter
 * @authlab/auth admin`). The caller is authenticated first (onRequest: a 401 before any 400); its
 * admin role is checked by Permissions inside the change's transaction, from Postgres, never from
 * its token: a demoted admin's tokens may still say `admin` until they expire.
 */
export default async function adminRoutes(fastify: FastifyInstance, opts: { config: AuthConfig }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const caller = callerOf(fastify, opts.config)
  const callers = new WeakMap<FastifyRequest, Caller>()
  const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
    callers.set(request, await caller(request, reply))
  }
  const actor = (request: FastifyRequest) => {
    const { userId, loginId } = callers.get(request) as Caller
    return { userId, loginId }
  }
  const schema = (summary: string) => ({
    summary,
    tags: ['admin'],
    security: [{ bearer: [] as string[] }, { sessionCookie: [] as string[] }] as Record<string, string[]>[],
    params: UserParams,
  })

  app.put(
    '/auth/admin/users/:userId/roles',
    {
      schema: {
        ...schema("Replace a user's roles"),
        body: RolesBody,
        response: { 200: RolesView, ...errors },
      },
      onRequest: authenticate,
    },
    async (request) => {
      const { userId } = request.params
      const changed = await fastify.permissions.changeRoles(actor(request), userId, request.body.roles)
      fastify.authMetrics.revocations.inc({ reason: 'role-change' })
      return { userId, ...changed }
    },
  )
  app.post(
    '/auth/admin/users/:userId/disable',
    {
      schema: {
        ...schema('Disable a user: every login revoked, no new one'),
        response: { 200: DisabledView, ...errors },
      },
      onRequest: authenticate,
    },
    async (request) => {
      const { userId } = request.params
      const revoked = await fastify.permissions.disable(actor(request), userId)
      fastify.authMetrics.revocations.inc({ reason: 'user-disabled' })
      return { userId, disabled: true, revoked }
    },
  )
  app.post(
    '/auth/admin/users/:userId/enable',
    {
      schema: { ...schema('Let a disabled user log in again'), response: { 200: DisabledView, ...errors } },
      onRequest: authenticate,
    },
    async (request) => {
      const { userId } = request.params
      await fastify.permissions.enable(actor(request), userId)
      return { userId, disabled: false, revoked: 0 }
    },
  )
}
