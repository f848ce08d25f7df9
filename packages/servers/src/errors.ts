import createError from '@fastify/error'

export const ServerStartError = createError<[string, string]>(
  'AUTHLAB_SERVER_START_FAILED',
  '%s did not become ready: %s',
  500,
)
export const BinaryNotFoundError = createError<[string, string]>(
  'AUTHLAB_BINARY_NOT_FOUND',
  '%s not found (%s)',
  500,
)
export const UnsupportedOperationError = createError<[string]>('AUTHLAB_UNSUPPORTED_OPERATION', '%s', 500)
