import { dockerAnswers, startPostgresContainer, startRedisContainer } from './containers.ts'
import {
  hasNativePostgres,
  type PostgresOptions,
  type PostgresServer,
  startNativePostgres,
} from './postgres.ts'
import { hasBinary } from './process.ts'
import { type RedisOptions, type RedisServer, startNativeRedis } from './redis.ts'

export { processTree, processTreeCpuTimeMs } from './cpu.ts'
export { BinaryNotFoundError, ServerStartError, UnsupportedOperationError } from './errors.ts'
export { seriesValue } from './exposition.ts'
export type { PostgresOptions, PostgresServer } from './postgres.ts'
export { findBinary, freePort, hasBinary, ManagedProcess, waitUntil } from './process.ts'
export { seeded } from './random.ts'
export type { DataCopy, RedisOptions, RedisServer } from './redis.ts'
export { redisPing } from './redis.ts'
export { REDIS_USERS, type RedisRole } from './redis-acl.ts'
export {
  type RedisTopology,
  standaloneTopology,
  startRedisCluster,
  startRedisSentinel,
  startRedisTopology,
} from './redis-topology.ts'

export type ServerBackend = 'native' | 'containers'

/**
 * AUTHLAB_SERVERS=native|containers|auto (default auto). Native processes come first: they start in
 * a second and support every fault operation. Auto falls back to testcontainers only when the native
 * binaries are missing and a Docker engine answers.
 */
export async function selectBackend(env: NodeJS.ProcessEnv = process.env): Promise<ServerBackend> {
  const wanted = env.AUTHLAB_SERVERS ?? 'auto'
  if (wanted === 'native' || wanted === 'containers') return wanted
  if (wanted !== 'auto')
    throw new Error(`AUTHLAB_SERVERS must be native, containers or auto, not "${wanted}"`)
  if (hasBinary('redis-server') && (await hasNativePostgres())) return 'native'
  if (await dockerAnswers()) return 'containers'
  return 'native' // and let the missing binary be reported by name
}

export async function startRedis(opts: RedisOptions = {}): Promise<RedisServer> {
  return (await selectBackend()) === 'containers' ? startRedisContainer(opts) : startNativeRedis(opts)
}

export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresServer> {
  return (await selectBackend()) === 'containers' ? startPostgresContainer(opts) : startNativePostgres(opts)
}
export { type NginxOptions, type NginxServer, startNginx } from './nginx.ts'
export {
  type PrometheusOptions,
  type PrometheusServer,
  type PrometheusTarget,
  prometheusConfig,
  type ScrapeJob,
  startPrometheus,
} from './prometheus.ts'
