import type { Results } from '../../results.ts'
import { lineChart } from '../charts/lines.ts'
import { f0, f1, f2, MODES } from '../format.ts'
import { type Block, chart } from '../model.ts'

export function network(r: Results): Block[] {
  const net = r.network
  if (!net?.delays.length) return []
  const xs = net.delays.map((d) => d.delayMs)
  return [
    { kind: 'h2', text: 'Latency with Redis and auth a network hop away' },
    {
      kind: 'p',
      text:
        `${net.replicas} replicas per service, warm tokens, ${f0(net.rateRps)} req/s fixed arrival rate for ${net.durationS} s per mode and delay. ` +
        `Delay: ${net.mechanism}${net.note ? ` — ${net.note}` : ''}. The Redis round trip row is measured through that path.`,
    },
    ...chart(
      'network-p50',
      'p50 latency vs one-way delay to Redis and auth',
      'How a mode that asks Redis or auth on every request inherits the network between them: its line climbs with the delay while the local modes stay flat.',
      lineChart(
        'one-way delay added (ms)',
        'p50 ms',
        xs,
        MODES.map((m) => ({ name: m, values: net.delays.map((d) => d.modes[m]?.p50Ms) })),
      ),
    ),
    {
      kind: 'table',
      head: ['mode', ...net.delays.map((d) => `p50 / p99 ms @ ${d.delayMs} ms`)],
      rows: [
        ['Redis round trip (measured)', ...net.delays.map((d) => `${f2(d.redisRoundTripMs)}`)],
        ...MODES.map((m) => [
          `\`${m}\``,
          ...net.delays.map((d) => {
            const x = d.modes[m]
            return x ? `${f2(x.p50Ms)} / ${f2(x.p99Ms)}${x.errors ? ` (${x.errors} errors)` : ''}` : '–'
          }),
        ]),
      ],
    },
  ]
}

export function algorithms(r: Results): Block[] {
  if (!r.algorithms) return []
  return [
    { kind: 'h2', text: 'Signing algorithm: CPU per verification (fast-jwt, in process)' },
    {
      kind: 'table',
      head: [
        'algorithm',
        'cold verify µs',
        'raw node:crypto verify µs',
        'warm (cached) verify µs',
        'sign µs',
      ],
      rows: Object.entries(r.algorithms.verify).map(([a, c]) => [
        a,
        f1(c.coldVerifyUs),
        f1(c.rawVerifyUs),
        f2(c.warmVerifyUs),
        f1(c.signUs),
      ]),
    },
  ]
}
