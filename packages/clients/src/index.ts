export { ClientOptionsError, RedisNotReplicatedError, StoreUnavailableError } from './errors.ts'
export { createPool, inTransaction, type PostgresClientOptions, postgresClient } from './postgres.ts'
export {
  createRedis,
  type HostPort,
  nodeForKey,
  keyOwner,
  parseHostList,
  type RedisClient,
  type RedisClientOptions,
  type RedisMode,
  redisClient,
  redisReady,
  type RedisTopologyEnv,
  redisTopology,
  waitForReplicas,
} from './redis.ts'
export { asStoreError, storeUnavailableReason } from './unavailable.ts'
