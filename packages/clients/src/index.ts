export { ClientOptionsError, RedisNotReplicatedError, StoreUnavailableError } from './errors.ts'
export { createPool, inTransaction, type PostgresClientOptions, postgresClient } from './postgres.ts'
export {
  createRedis,
  type HostPort,
  keyOwner,
  nodeForKey,
  parseHostList,
  type RedisClient,
  type RedisClientOptions,
  type RedisMode,
  type RedisTopologyEnv,
  redisClient,
  redisReady,
  redisTopology,
  waitForReplicas,
} from './redis.ts'
export { asStoreError, storeUnavailableReason } from './unavailable.ts'
