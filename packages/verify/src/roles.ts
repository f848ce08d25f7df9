import type { FastifyRequest } from 'fastify'
import { ForbiddenError } from './errors.ts'

/**
 * A preHandler for a route behind `authenticate(mode)`: 403 unless the principal holds `role`.
 * It reads the roles the mode's credential carries, so it is exactly as fresh as that mode is
 * (docs/modes.md, "a permission change takes effect").
 */
export function requireRole(role: string) {
  return async function requireRoleHook(request: FastifyRequest): Promise<void> {
    if (!request.user?.roles.includes(role)) throw new ForbiddenError(role)
  }
}
