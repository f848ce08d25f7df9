import { ReplyError } from 'ioredis'
import pg from 'pg'
import { RedisUnansweredError, StoreUnavailableError } from './errors.ts'

// "The store could not answer", as opposed to a bug or a bad query: a 503, so clients retry and
// load balancers notice, and a security check that needed the store fails closed instead of
// answering 500 (DENYLIST_FAIL_OPEN lets a token through on exactly these). Decided by where an
// error comes from, never by its message: a server's error code, a client library's error class,
// or the mark the project's own clients put on what their library raised (redis-origin.ts,
// postgres.ts), as the library's plain Errors and Node's socket errors say nothing of which store
// they are about.

export type Store = 'Redis' | 'Postgres'

const UNAVAILABLE = Symbol('authlab.storeUnavailable')

/** Marks `err`, raised by `store`'s client, as that store not answering. */
export function markUnavailable<E>(err: E, store: Store): E {
  if (err instanceof Error && !(UNAVAILABLE in err))
    Object.defineProperty(err, UNAVAILABLE, { value: store, enumerable: false })
  return err
}

/** An error of the code itself: never an outage, whoever raised it. */
export function isProgrammingError(err: unknown): boolean {
  return (
    err instanceof TypeError ||
    err instanceof RangeError ||
    err instanceof ReferenceError ||
    err instanceof SyntaxError
  )
}

// SQLSTATEs meaning Postgres cannot answer now, not that the statement is wrong: class 08
// (connection exception); 57P01 admin shutdown (fast shutdown, pg_terminate_backend), 57P02 crash
// shutdown (another backend crashed), 57P03 cannot connect now (starting, stopping, recovering),
// 57P05 idle-session timeout; 57014 query canceled (statement_timeout: no answer within the bound);
// 53000–53300, out of a resource (disk, memory, connections), which frees up again. Left out: 57P04
// (database dropped) and 53400 (a configured limit the statement itself exceeds), which a retry
// cannot fix, and 40001/40P01, which inTransaction retries and are conflicts, not outages.
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '57P05', '57014', '53000', '53100', '53200', '53300'])

// Redis error replies start with their code (what ioredis itself reads for MOVED, ASK, TRYAGAIN,
// CLUSTERDOWN): the dataset is loading after a restart, the cluster or the slot is between
// primaries, or this node is (now) a replica. WRONGTYPE, ERR, NOSCRIPT and the rest are the
// command's fault.
const REPLY_CODES = new Set(['LOADING', 'CLUSTERDOWN', 'TRYAGAIN', 'READONLY', 'MASTERDOWN'])

// redis-errors' RedisError, the base of every error class ioredis raises (ReplyError,
// AbortError and its MaxRetriesPerRequestError, ClusterAllFailedError); ioredis exports ReplyError
// only (one reason ioredis is pinned). Any of them but a reply means the connection failed,
// whichever client raised it.
const RedisError: abstract new (...args: never[]) => Error = Object.getPrototypeOf(ReplyError)

/** The store `err` shows unavailable, or undefined when it is not an outage (a 500). */
export function storeUnavailableReason(err: unknown): Store | undefined {
  if (!(err instanceof Error) || isProgrammingError(err)) return undefined
  const marked = (err as { [UNAVAILABLE]?: Store })[UNAVAILABLE]
  if (marked) return marked
  if (err instanceof pg.DatabaseError) {
    const code = err.code ?? ''
    return code.startsWith('08') || SQLSTATES.has(code) ? 'Postgres' : undefined
  }
  if (err instanceof ReplyError)
    return REPLY_CODES.has(err.message.split(' ', 1)[0] ?? '') ? 'Redis' : undefined
  if (err instanceof RedisUnansweredError || err instanceof RedisError) return 'Redis'
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
