import type { FastifyRequest } from 'fastify'
import { ForbiddenError, VerifierUnavailableError } from './errors.ts'

/**
 * A preHandler for a route behind `authenticate(mode)`: 403 unless the principal holds `role`.
 * It reads the roles the mode's credential carries, so it is exactly as fresh as that mode is
 * (docs/modes.md, "a permission change takes effect").
 */
export function requireRole(role: string) {
  return async function requireRoleHook(request: FastifyRequest): Promise<void> {
    // Accepted without its revocation check (jwt-denylist failing open): its roles may have been
    // withdrawn, and no role is granted on that word alone.
    if (request.user?.degraded)
      throw new VerifierUnavailableError('roles cannot be checked: revocations unreachable')
    const roles = request.user?.roles
    if (!(Array.isArray(roles) && roles.includes(role))) throw new ForbiddenError(role)
  }
}
