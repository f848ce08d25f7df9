import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import pg from 'pg'
import { ClientOptionsError } from './errors.ts'

export interface PostgresClientOptions {
  connectionString: string
  max: number
  connectTimeoutMs: number
  statementTimeoutMs: number
  /** Told of every error of an idle pooled connection (for a metric). */
  onError?: (err: Error) => void
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
  pool.on('error', (err) => {
    opts.onError?.(err)
    fastify.log.warn({ err: err.message }, 'postgres idle client error')
  })
  fastify.decorate('pg', pool)
  fastify.addHook('onClose', async () => {
    await pool.end()
  })
}

export const postgresClient = fp(postgresPlugin, { name: 'authlab-postgres', fastify: '5.x' })

// Deadlock (40P01) and serialization failure (40001): Postgres aborted the transaction and says
// that running it again can succeed. Anything else is not retried.
const RETRYABLE = new Set(['40P01', '40001'])

/**
 * Runs `work` in one transaction on one pooled client: COMMIT if it resolves, ROLLBACK (and rethrow)
 * if it throws, and the client goes back to the pool either way. A deadlock or serialization
 * failure runs the whole of `work` again (up to `attempts` times, with a short jittered pause), so
 * `work` must be safe to repeat: its Redis writes idempotent, its random values chosen outside it.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  attempts = 5,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect()
    // A checked-out client whose connection dies emits 'error' with no pool listener attached: the
    // query rejects anyway, so note it here (instead of crashing the process) and destroy the
    // client on release rather than return a broken one to the pool.
    let broken: Error | undefined
    const onError = (err: Error) => {
      broken = err
    }
    client.on('error', onError)
    try {
      await client.query('BEGIN')
      const result = await work(client)
      await client.query('COMMIT')
      return result
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      const code = (err as { code?: string }).code
      if (!code) broken ??= err as Error
      if (attempt >= attempts || !code || !RETRYABLE.has(code)) throw err
    } finally {
      client.off('error', onError)
      client.release(broken)
    }
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt))
  }
}
