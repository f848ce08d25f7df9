export { ConfigInvalidError } from './errors.ts'
export { ErrorBody, errorHandler, requestId } from './http.ts'
export { loadConfig } from './load.ts'
export { loggerOptions, serverOptions } from './logger.ts'
export { type MetricsOptions, metrics } from './metrics.ts'
export {
  DocumentedDefault,
  JwtAlgorithm,
  JwtEnv,
  LogLevel,
  PostgresEnv,
  RedisEnv,
  ServerEnv,
} from './schemas.ts'
