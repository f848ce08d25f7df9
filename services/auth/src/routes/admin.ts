import { ADMIN_ROLE } from '@authlab/contract'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuthConfig } from '../config.ts'
import { NotAdminError } from '../errors.ts'
import { DisabledView, ErrorResponse, RolesBody, RolesView, UserParams } from '../schemas/auth.ts'
import { callerOf } from './caller.ts'

const errors = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  503: ErrorResponse,
} as const

/**
 * An admin's changes to a user (the admin CLI does the same from a shell: `pnpm --filter
 * @authlab/auth admin`). The caller's admin role is read from Postgres on every call: a demoted
 * admin's tokens may still say `admin` until they expire, and must not keep this power meanwhile.
 */
export default async function adminRoutes(fastify: FastifyInstance, opts: { config: AuthConfig }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const caller = callerOf(fastify, opts.config)
  const admin = async (request: FastifyRequest, reply: FastifyReply) => {
    const { userId } = await caller(request, reply)
    if (!(await fastify.permissions.holds(userId, ADMIN_ROLE))) throw new NotAdminError()
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
      preHandler: admin,
    },
    async (request) => {
      const { userId } = request.params
      const changed = await fastify.permissions.changeRoles(userId, request.body.roles)
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
      preHandler: admin,
    },
    async (request) => {
      const { userId } = request.params
      const revoked = await fastify.permissions.disable(userId)
      fastify.authMetrics.revocations.inc({ reason: 'user-disabled' })
      return { userId, disabled: true, revoked }
    },
  )
  app.post(
    '/auth/admin/users/:userId/enable',
    {
      schema: { ...schema('Let a disabled user log in again'), response: { 200: DisabledView, ...errors } },
      preHandler: admin,
    },
    async (request) => {
      const { userId } = request.params
      await fastify.permissions.enable(userId)
      return { userId, disabled: false, revoked: 0 }
    },
  )
}
