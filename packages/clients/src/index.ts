export type { RedisMode } from '@authlab/contract'
export {
  ClientOptionsError,
  RedisNotReplicatedError,
  RedisUnansweredError,
  StoreUnavailableError,
} from './errors.ts'
export { createPool, inTransaction, type PostgresClientOptions, postgresClient } from './postgres.ts'
export {
  commandTimeoutOf,
  createRedis,
  duplicateRedis,
  type HostPort,
  keyOwner,
  nodeForKey,
  parseHostList,
  type RedisClient,
  type RedisClientOptions,
  type RedisTopologyEnv,
  redisClient,
  redisReady,
  redisTopology,
  writeReplicated,
} from './redis.ts'
export { asStoreError, type Store, storeUnavailableReason } from './unavailable.ts'
