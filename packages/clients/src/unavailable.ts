import { StoreUnavailableError } from './errors.ts'

// Errors that mean "the store could not answer", as opposed to a bug or a bad query. They become
// 503 so clients retry and load balancers notice, and a security check that needed the store fails
// closed instead of answering 500 (or worse, letting the request through).
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
])
const REDIS_MESSAGES = [
  "Stream isn't writeable",
  'Connection is closed',
  'Command timed out',
  // A pipeline's unanswered commands when its connection closes (the hang watchdog drops it).
  'Command aborted due to connection close',
  'Reached the max retries per request limit',
  'LOADING',
  // A Redis Cluster or Sentinel set between primaries: a failover in progress.
  'CLUSTERDOWN',
  'TRYAGAIN',
  'READONLY',
  "Cluster isn't ready",
  'Failed to refresh slots cache',
  'None of startup nodes is available',
  'All sentinels are unreachable',
]
const PG_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Client has encountered a connection error',
  'the database system is',
]

export function storeUnavailableReason(err: unknown): 'Redis' | 'Postgres' | undefined {
  if (!(err instanceof Error)) return undefined
  const { code, message, name } = err as Error & { code?: string }
  // SQLSTATE class 08 = connection exception, 57P0x = server shutting down, 57014 = statement timeout.
  if (typeof code === 'string' && (/^08/.test(code) || /^57P0/.test(code) || code === '57014'))
    return 'Postgres'
  if (PG_MESSAGES.some((m) => message.includes(m))) return 'Postgres'
  if (name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.some((m) => message.includes(m))) return 'Redis'
  if (code && CONNECTION_CODES.has(code)) return /5432|postgres/i.test(message) ? 'Postgres' : 'Redis'
  return undefined
}

/** Maps a store outage to AUTHLAB_STORE_UNAVAILABLE (503) and leaves other errors alone. */
export function asStoreError(err: unknown): unknown {
  const store = storeUnavailableReason(err)
  if (!store) return err
  const unavailable = new StoreUnavailableError(store)
  unavailable.cause = err
  return unavailable
}
