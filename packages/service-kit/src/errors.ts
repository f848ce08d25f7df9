import createError from '@fastify/error'

export const ConfigInvalidError = createError<[string]>(
  'AUTHLAB_CONFIG_INVALID',
  'Invalid configuration: %s',
  500,
)
/** A known path asked with a method none of its routes has; the argument is the Allow list. */
export const MethodNotAllowedError = createError<[string]>(
  'AUTHLAB_METHOD_NOT_ALLOWED',
  'Method not allowed here; allowed: %s',
  405,
)
/** A path no route has; the argument names the request (`GET /nowhere`). */
export const RouteNotFoundError = createError<[string]>('AUTHLAB_NOT_FOUND', '%s is not a route', 404)
