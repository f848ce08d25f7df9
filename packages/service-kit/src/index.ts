export { ConfigInvalidError, MethodNotAllowedError, RouteNotFoundError } from './errors.ts'
export { ErrorBody, errorHandler, requestId } from './http.ts'
export {
  editDistance,
  loadConfig,
  type UnknownVariable,
  unknownVariables,
  warnUnknownVariables,
} from './load.ts'
export { loggerOptions, serverOptions } from './logger.ts'
export { type MetricsOptions, metrics } from './metrics.ts'
export { allowedMethods, unroutedRequests } from './routing.ts'
export {
  DocumentedDefault,
  JwtAlgorithm,
  JwtEnv,
  LogLevel,
  PostgresEnv,
  RedisEnv,
  ServerEnv,
} from './schemas.ts'
