import createError from '@fastify/error'

export const ConfigInvalidError = createError<[string]>(
  'AUTHLAB_CONFIG_INVALID',
  'Invalid configuration: %s',
  500,
)
