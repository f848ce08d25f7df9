// The tokenLifetime section of results.json (loadtest/src/token-lifetime.ts measures it): what each
// access-token lifetime costs in refreshes (auth, Postgres and Redis CPU, Postgres writes), since
// an active user refreshes once per lifetime and `jwt`'s revocation window is that lifetime.
import { type Static, Type } from 'typebox'

const Num = Type.Number({ minimum: 0 })
const Count = Type.Integer({ minimum: 0 })
/** idle-subtracted: below 0 when the idle rate's noise is larger than what the refreshes cost */
const Net = (description: string) => Type.Number({ description })

/** CPU µs per refresh in each server process, over the idle rate of the same window. */
const CpuPerRefresh = Type.Object(
  {
    auth: Net('auth CPU µs per refresh'),
    postgres: Net('Postgres CPU µs per refresh (every backend and the background processes)'),
    redis: Net('Redis CPU µs per refresh'),
    nginx: Net('nginx CPU µs per refresh'),
  },
  { additionalProperties: false },
)

/** null where pg_walinspect could not be created: the WAL's records were not read */
const Records = (description: string) =>
  Type.Unsafe<number>({ anyOf: [{ type: 'number' }, { type: 'null' }], description })

/**
 * Postgres's writes per refresh, over the idle rate, read from the WAL and the transaction ids
 * (pg_stat_database and pg_stat_wal are published by each backend up to ten seconds late).
 */
const PostgresPerRefresh = Type.Object(
  {
    /** transaction ids assigned (pg_current_snapshot's xmax moved): only a writing transaction gets one */
    commits: Net('write transactions per refresh'),
    tupInserted: Records('Heap/INSERT WAL records (rows inserted) per refresh'),
    tupUpdated: Records('Heap/UPDATE and HOT_UPDATE WAL records (rows updated) per refresh'),
    tupDeleted: Records('Heap/DELETE WAL records (rows deleted) per refresh'),
    /** FOR UPDATE row locks are WAL records too */
    walRecords: Records('WAL records per refresh, every kind'),
    walBytes: Net(
      'WAL bytes per refresh: the insert position moved (full_page_writes is off on the bench Postgres)',
    ),
  },
  { additionalProperties: false },
)

/** One access-token lifetime, driven at its own refresh rate for the simulated population. */
export const LifetimePoint = Type.Object(
  {
    ttlS: Type.Number({ exclusiveMinimum: 0 }),
    /** the fixed arrival rate: activeUsers / ttlS */
    targetPerS: Num,
    /** refreshes answered 200 over the window's length */
    achievedPerS: Num,
    windowS: Num,
    refreshes: Count,
    errors: Count,
    cpuUsPerRefresh: CpuPerRefresh,
    postgresPerRefresh: PostgresPerRefresh,
    /** per 1,000 active users at this lifetime: each refreshes once per ttlS */
    per1000Users: Type.Object(
      {
        refreshesPerS: Num,
        /** auth + Postgres + Redis CPU, core-ms per second */
        cpuMsPerS: Type.Number(),
        /** WAL flushes a durable Postgres (synchronous_commit on) makes: one per write transaction */
        walFlushesPerS: Type.Number(),
        walBytesPerS: Type.Number(),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
)
export type LifetimePoint = Static<typeof LifetimePoint>

export const TokenLifetimeRun = Type.Object(
  {
    /** the simulated population: every point refreshes at activeUsers / ttlS per second */
    activeUsers: Type.Integer({ minimum: 1 }),
    /** logins the refreshes rotate through (each refresh spends its login's token and gets the next) */
    logins: Type.Integer({ minimum: 1 }),
    /** the alternatives' per-request cost is charged at this many requests per active user per second */
    requestsPerUserPerS: Num,
    /** the same cluster with no load, per second: what every point's figures are net of */
    idle: Type.Object(
      {
        windowS: Num,
        cpuMsPerS: Type.Record(Type.String(), Num),
        /** write transactions (transaction ids assigned) */
        commitsPerS: Num,
        walBytesPerS: Num,
      },
      { additionalProperties: false },
    ),
    points: Type.Array(LifetimePoint),
    /** one refresh's CPU, for the planner: the highest rate's point (the idle noise weighs least there) */
    perRefresh: Type.Optional(
      Type.Object(
        {
          fromTtlS: Type.Number({ exclusiveMinimum: 0 }),
          authUs: Type.Number(),
          postgresUs: Type.Number(),
          redisUs: Type.Number(),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
)
export type TokenLifetimeRun = Static<typeof TokenLifetimeRun>
