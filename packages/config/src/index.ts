export { ConfigInvalidError } from './errors.ts'
export { loadConfig } from './load.ts'
export { loggerOptions, serverOptions } from './logger.ts'
export { JwtAlgorithm, JwtEnv, LogLevel, PostgresEnv, RedisEnv, ServerEnv } from './schemas.ts'
