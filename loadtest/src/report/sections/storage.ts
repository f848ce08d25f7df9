import type { Results } from '../../results.ts'
import { f0, f2 } from '../format.ts'
import type { Block } from '../model.ts'

const mib = (bytes: number) => bytes / 2 ** 20

/**
 * What the shared state costs as it grows: Redis memory per session and per revocation, each
 * mode's revocation check, and a jwt-pushed replica's feed (its heap, its sync at connect).
 */
export function storage(r: Results): Block[] {
  const s = r.storage
  if (!s || s.sessions.length === 0) return []
  const largest = s.sessions.at(-1)!
  const revocations = s.revocations.at(-1)!
  return [
    { kind: 'h2', text: 'Storage: what sessions and revocations cost as they grow' },
    {
      kind: 'p',
      text:
        `Measured on a Redis of its own, written as auth writes (sessions by \`writeSession\`, revocations by the revocation script): ` +
        `Redis memory per entry is the \`INFO memory\` delta over the whole set. At ${f0(largest.count)} live sessions, one takes ${f0(largest.bytesPerEntry)} bytes ` +
        `(${f2(mib(largest.bytesPerEntry * 1e6))} MiB per million); a revocation entry (its deny key and its place in the live set that \`jwt-pushed\` resyncs from) ` +
        `${f0(revocations.bytesPerEntry)} bytes. Stateless \`jwt\` stores nothing per session, and nothing can be revoked.`,
    },
    {
      kind: 'table',
      head: [
        'live entries',
        'Redis bytes / session',
        'MEMORY USAGE of one session',
        'Redis bytes / revocation',
        'live set (MiB)',
      ],
      rows: s.sessions.map((row, i) => [
        f0(row.count),
        f0(row.bytesPerEntry),
        f0(row.memoryUsageOfOneKey),
        f0(s.revocations[i]?.bytesPerEntry),
        f2(mib(s.revocations[i]?.liveSetBytes ?? Number.NaN)),
      ]),
    },
    {
      kind: 'p',
      text: 'As the live revocation set grows: `jwt-denylist` reads four keys by name whatever the set holds (Redis CPU per `MGET`, and one check as a replica awaits it, round trip included, many in flight); `jwt-pushed` looks up a local set, whose whole copy a replica reads at every (re)connect (time to its first complete sync, the snapshot on the wire, the heap it keeps per entry).',
    },
    {
      kind: 'table',
      head: [
        'live revocations',
        'denylist: Redis µs / MGET',
        'denylist: µs / check',
        'pushed: ns / check',
        'pushed: sync at connect (ms)',
        'pushed: snapshot (MiB)',
        'pushed: heap bytes / revocation',
      ],
      rows: s.revocationSet.map((row) => [
        f0(row.count),
        f2(row.mgetRedisUs),
        f2(row.mgetRoundTripNs / 1000),
        f0(row.pushedNs),
        f0(row.syncMs),
        f2(mib(row.snapshotBytes)),
        f0(row.heapPerEntry),
      ]),
    },
  ]
}
