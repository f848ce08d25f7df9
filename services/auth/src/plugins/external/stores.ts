import { postgresClient, redisClient, redisTopology } from '@authlab/clients'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { AuthConfig } from '../../config.ts'

/** Postgres (users, logins, refresh families, keys, revocation log) and Redis (fast copies). */
export default fp(
  async (fastify: FastifyInstance, { config }: { config: AuthConfig }) => {
    await fastify.register(postgresClient, {
      connectionString: config.DATABASE_URL,
      max: config.PG_POOL_MAX,
      connectTimeoutMs: config.PG_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: config.PG_STATEMENT_TIMEOUT_MS,
      onError: () => fastify.storeErrors.inc({ store: 'postgres' }),
    })
    await fastify.register(redisClient, {
      ...redisTopology(config),
      commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
      connectionName: 'authlab-auth',
      onError: () => fastify.storeErrors.inc({ store: 'redis' }),
    })
  },
  { name: 'authlab-auth-stores', fastify: '5.x' },
)
