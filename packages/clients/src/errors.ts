import createError from '@fastify/error'

export const StoreUnavailableError = createError<[string]>(
  'AUTHLAB_STORE_UNAVAILABLE',
  '%s is unavailable',
  503,
)
export const ClientOptionsError = createError<[string]>('AUTHLAB_CLIENT_OPTIONS_INVALID', '%s', 500)
export const RedisNotReplicatedError = createError<[number, number]>(
  'AUTHLAB_REDIS_NOT_REPLICATED',
  'Redis did not reach %d replica(s) within %d ms; the write was not acknowledged',
  503,
)
export const RedisUnansweredError = createError<[number]>(
  'AUTHLAB_REDIS_UNANSWERED',
  'Redis left a command unanswered for %d ms; the connection was dropped',
  503,
)
