import createError from '@fastify/error'

/** The one "cannot decide yet" answer: Redis' copies are not known complete (restart, data loss). */
export const RevocationsNotReadyError = createError(
  'AUTHLAB_REVOCATIONS_NOT_READY',
  'Revocation state is not known complete yet (Redis restarted or lost data; auth is reconciling it)',
  503,
)
