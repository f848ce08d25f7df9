import { type EventEmitter, errorMonitor } from 'node:events'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import pg from 'pg'
import { ClientOptionsError } from './errors.ts'
import { isProgrammingError, markUnavailable } from './unavailable.ts'

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
 * (pg waits forever by default) and a server-side statement timeout. Its errors that mean
 * Postgres did not answer are marked as such (see unavailable.ts).
 */
export function createPool(opts: PostgresClientOptions): pg.Pool {
  if (!/^postgres(ql)?:\/\//.test(opts.connectionString)) {
    throw new ClientOptionsError('DATABASE_URL must be a postgres:// URL')
  }
  // The client-side bound for a server that stops answering, where statement_timeout cannot fire.
  const readTimeoutMs = opts.statementTimeoutMs + 1000
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max,
    connectionTimeoutMillis: opts.connectTimeoutMs,
    statement_timeout: opts.statementTimeoutMs,
    query_timeout: readTimeoutMs,
    idleTimeoutMillis: 30_000,
  })
  markFailedConnects(pool)
  pool.on('connect', (client) => markUnansweredQueries(client, readTimeoutMs))
  return pool
}

// A server's error (SQLSTATE) speaks for itself; the code's own mistakes are never outages.
const unanswered = <E>(err: E): E =>
  err instanceof pg.DatabaseError || isProgrammingError(err) ? err : markUnavailable(err, 'Postgres')

type ConnectCallback = (err: Error | undefined, ...rest: unknown[]) => void

/**
 * Marks every failure to get a connection (refused, reset, timed out, no free slot in time:
 * pg's "timeout exceeded when trying to connect", a plain Error) as Postgres not answering. Both
 * `pool.connect()` and `pool.query()`, which connects through it, pass here.
 */
function markFailedConnects(pool: pg.Pool): void {
  const connect = pool.connect.bind(pool) as (
    callback?: ConnectCallback,
  ) => Promise<pg.PoolClient> | undefined
  const marked = (callback?: ConnectCallback) =>
    callback
      ? connect((err, ...rest) => callback(err && unanswered(err), ...rest))
      : connect()?.catch((err: unknown) => {
          throw unanswered(err)
        })
  Object.assign(pool, { connect: marked })
}

/**
 * Marks a pooled connection's errors that mean Postgres did not answer: its connection failed (pg
 * reports that on the client before failing its queries, with "Connection terminated
 * unexpectedly" or the socket's error), or a query had no answer within the read timeout ("Query
 * read timeout"). A query pg refuses by itself, such as values that are not an array, stays
 * unmarked: a bug, not an outage.
 */
function markUnansweredQueries(client: pg.PoolClient, readTimeoutMs: number): void {
  let lost = false
  const events: EventEmitter = client
  // errorMonitor watches without handling: an unhandled connection error surfaces as it did.
  events.on(errorMonitor, (err: Error) => {
    lost = true
    unanswered(err)
  })
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  const marked = (...args: unknown[]) => {
    const started = performance.now()
    // pg refuses a query within a tick; only its read timeout fails one late. Half of it as the
    // line, since a timer may fire a little early by performance.now().
    const mark = (err: unknown) =>
      lost || performance.now() - started >= readTimeoutMs / 2 ? unanswered(err) : err
    const callback = args.at(-1)
    if (typeof callback === 'function')
      args[args.length - 1] = (err: unknown, res: unknown) => callback(err && mark(err), res)
    const result = query(...args)
    return result instanceof Promise ? result.catch((err: unknown) => Promise.reject(mark(err))) : result
  }
  Object.assign(client, { query: marked })
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
