import type { Results } from '../../results.ts'
import { f1 } from '../format.ts'
import type { Block } from '../model.ts'

/** A settings line, only when every value it names was recorded. */
const when = (values: unknown[], line: () => string): string[] =>
  values.every((v) => v !== undefined && v !== null) ? [line()] : []

/** This run's settings; the method itself is described in docs/benchmarking.md. */
export function method(r: Results): Block[] {
  const s = r.settings
  return [
    { kind: 'h2', text: 'This run’s settings' },
    {
      kind: 'list',
      items: [
        `Sequential windows of ${s.windowS} s after ${s.warmupS} s of warm-up, ${s.repetitions} repetitions, order shuffled from seed ${r.seed}.`,
        ...when(
          [s.sameWindowRepetitions, s.sameWindowS],
          () =>
            `Same-window repetitions: ${s.sameWindowRepetitions} of ${s.sameWindowS} s per replica count and token profile.`,
        ),
        ...when(
          [s.warmPool, s.coldPool],
          () => `Token profiles: warm = ${s.warmPool}; cold = ${s.coldPool}.`,
        ),
        ...when(
          [s.jwtVerifyCacheSize, s.sessionCacheMaxEntries],
          () =>
            `Per-replica caches: fast-jwt ${s.jwtVerifyCacheSize} tokens, session-cached ${s.sessionCacheMaxEntries} sessions.`,
        ),
        ...when([s.accessTokenTtlS], () => `Access-token lifetime: ${s.accessTokenTtlS} s.`),
        ...when(
          [s.backgroundRedisCallsPerS],
          () =>
            `Redis commands per request subtract the idle command rate measured beforehand (${f1(Number(s.backgroundRedisCallsPerS))}/s).`,
        ),
        'How the bench measures, the A/A control and what the figures can and cannot show: docs/benchmarking.md. Compare modes with each other within one run, not with figures from elsewhere.',
      ],
    },
  ]
}
