import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import pg from 'pg'
import { ClientOptionsError } from './errors.ts'

export interface PostgresClientOptions {
  connectionString: string
  max: number
  connectTimeoutMs: number
  statementTimeoutMs: number
}

/**
 * A pool that answers quickly when the database is gone or saturated: a connection timeout
 * (pg waits forever by default) and a server-side statement timeout.
 */
export function createPool(opts: PostgresClientOptions): pg.Pool {
  if (!/^postgres(ql)?:\/\//.test(opts.connectionString)) {
    throw new ClientOptionsError('DATABASE_URL must be a postgres:// URL')
  }
  return new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max,
    connectionTimeoutMillis: opts.connectTimeoutMs,
    statement_timeout: opts.statementTimeoutMs,
    query_timeout: opts.statementTimeoutMs + 1000,
    idleTimeoutMillis: 30_000,
  })
}

declare module 'fastify' {
  interface FastifyInstance {
    pg: pg.Pool
  }
}

async function postgresPlugin(fastify: FastifyInstance, opts: PostgresClientOptions) {
  const pool = createPool(opts)
  // An idle client losing its connection emits on the pool; unhandled, that kills the process.
  pool.on('error', (err) => fastify.log.warn({ err: err.message }, 'postgres idle client error'))
  fastify.decorate('pg', pool)
  fastify.addHook('onClose', async () => {
    await pool.end()
  })
}

export const postgresClient = fp(postgresPlugin, { name: 'authlab-postgres', fastify: '5.x' })

/**
 * Runs `work` in one transaction on one pooled client: COMMIT if it resolves, ROLLBACK (and rethrow)
 * if it throws, and the client goes back to the pool either way.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    client.release()
  }
}
