// The storage section of results.json (loadtest/src/storage.ts measures it): what sessions and
// revocations cost in Redis memory, and in a `jwt-pushed` replica, as the live set grows.
import { type Static, Type } from 'typebox'

const Num = Type.Number({ minimum: 0 })
const Count = Type.Integer({ minimum: 1 })

export const StorageRun = Type.Object(
  {
    /** Redis memory per live session: the INFO used_memory delta over `count` sessions */
    sessions: Type.Array(
      Type.Object(
        { count: Count, bytesPerEntry: Num, memoryUsageOfOneKey: Num },
        { additionalProperties: false },
      ),
    ),
    /** Redis memory per revocation entry (its deny key and its member of the live set) */
    revocations: Type.Array(
      Type.Object({ count: Count, bytesPerEntry: Num, liveSetBytes: Num }, { additionalProperties: false }),
    ),
    /** with `count` live revocations: each mode's check, and a jwt-pushed replica's feed */
    revocationSet: Type.Array(
      Type.Object(
        {
          count: Count,
          /** Redis CPU per jwt-denylist MGET (INFO commandstats usec_per_call) */
          mgetRedisUs: Num,
          /** one denylist check as a replica awaits it, round trip included, under concurrency */
          mgetRoundTripNs: Num,
          /** a fresh feed's time to its first complete sync (the snapshot at connect) */
          syncMs: Num,
          /** the snapshot's reply on the wire (RESP) */
          snapshotBytes: Num,
          /** the feed's heap per live revocation, after a full collection */
          heapPerEntry: Type.Number(),
          /** one jwt-pushed check in the local set */
          pushedNs: Num,
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
)
export type StorageRun = Static<typeof StorageRun>
