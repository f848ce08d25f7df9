export { ClientOptionsError, StoreUnavailableError } from './errors.ts'
export { createPool, inTransaction, type PostgresClientOptions, postgresClient } from './postgres.ts'
export { createRedis, type RedisClientOptions, redisClient, redisReady } from './redis.ts'
export { asStoreError, storeUnavailableReason } from './unavailable.ts'
