import type { Results } from '../../results.ts'
import type { SizeRun } from '../../size-results.ts'
import { stackedBars } from '../charts/bars.ts'
import { f0, f1 } from '../format.ts'
import { type Block, chart } from '../model.ts'

/** The load the bandwidth figures are scaled to: a round rate, not a measurement. */
export const BANDWIDTH_RATE_RPS = 10_000

/** Mbit/s that `bytes` per request make at BANDWIDTH_RATE_RPS. */
export const mbitPerS = (bytes: number) => (bytes * 8 * BANDWIDTH_RATE_RPS) / 1e6

function credentialIntro(s: SizeRun): Block {
  return {
    kind: 'p',
    text:
      `From one real login through the gateway: the session cookie as a client sends it back (\`${s.sessionCookie.name}=…\`) is ${f0(s.sessionCookie.pairBytes)} bytes ` +
      `(auth's whole \`Set-Cookie\` line for it, attributes included, ${f0(s.sessionCookie.setCookieBytes)} bytes, once per login); ` +
      `the ${s.issued.algorithm} access token auth issued is ${f0(s.issued.tokenBytes)} bytes, ${f0(s.issued.authorizationBytes)} as its \`Authorization: Bearer\` header line, ` +
      `carrying ${s.claims.map((c) => `\`${c}\``).join(', ')}. Below, that token's header and claims signed again with each algorithm auth supports (a fresh key each, its \`kid\` a SHA-256 thumbprint as auth's), ` +
      'then with a tenant id (a UUID), and with 10 and 50 application claims (each a short name and a 16-character value) added.',
  }
}

function tokenTable(s: SizeRun): Block {
  const sets = [...new Set(s.tokens.map((t) => t.claims))]
  const algorithms = [...new Set(s.tokens.map((t) => t.algorithm))]
  const cell = (alg: string, set: string) => {
    const t = s.tokens.find((x) => x.algorithm === alg && x.claims === set)
    return t ? `${f0(t.tokenBytes)} (${f1(t.tokenBytes / s.sessionCookie.pairBytes)}× the cookie)` : '–'
  }
  return {
    kind: 'table',
    head: ['algorithm', ...sets.map((x) => `token bytes: ${x}`)],
    rows: algorithms.map((alg) => [alg, ...sets.map((set) => cell(alg, set))]),
  }
}

function wireBlocks(s: SizeRun): Block[] {
  if (s.wire.length === 0)
    return [{ kind: 'p', text: s.wireSkipped ?? 'Bytes per request were not measured.' }]
  const rate = f0(BANDWIDTH_RATE_RPS)
  const rows = s.wire.map((w) => [
    `\`${w.mode}\``,
    f0(s.credentialBytes[w.mode]),
    f0(w.requestBytes),
    f0(w.responseBytes),
    f1(mbitPerS(w.requestBytes)),
    f1(mbitPerS(w.responseBytes)),
    w.failed > 0 ? `${f0(w.failed)} of ${f0(w.requests)}` : `0 of ${f0(w.requests)}`,
  ])
  const svg = stackedBars(
    'bytes per request at the gateway (in, then out)',
    s.wire.map((w) => {
      const credential = s.credentialBytes[w.mode] ?? 0
      return {
        label: w.mode,
        parts: [
          { name: 'credential', value: credential },
          { name: 'rest of request', value: w.requestBytes - credential },
          { name: 'response', value: w.responseBytes },
        ],
      }
    }),
    (n) => f0(n),
  )
  return [
    {
      kind: 'p',
      text:
        "Per mode, nginx's own count at the gateway: `$request_length` (the request as read: request line, headers, body) and `$bytes_sent` (the response as written: status line, headers, body), " +
        `the median over the requests each mode was sent (GET /<service>/<mode>/me, the credential as a client holds it, one cookie or one \`Authorization\` header, and nothing else a browser would add), logged only for them. ` +
        'The native gateway is plain HTTP. Both counts are of HTTP bytes before TLS: behind TLS nginx counts what it hands to and takes from the TLS layer, ' +
        `so records add their framing and tag and a connection its handshake, which neither counts. Bandwidth is these bytes at ${rate} requests/s.`,
    },
    {
      kind: 'table',
      head: [
        'mode',
        'credential (bytes)',
        'request (bytes)',
        'response (bytes)',
        `in at ${rate} req/s (Mbit/s)`,
        `out at ${rate} req/s (Mbit/s)`,
        'non-200',
      ],
      rows,
    },
    ...chart(
      'size-wire',
      'Size: bytes per request and response at the gateway, per mode',
      "Each mode's request split into its credential and the rest (request line, Host and the other headers), then its response.",
      svg,
    ),
  ]
}

/** What each credential weighs, and what each mode's requests and responses carry at the gateway. */
export function size(r: Results): Block[] {
  const s = r.size
  if (!s) return []
  return [
    { kind: 'h2', text: 'Size: what each credential weighs, and what travels per request' },
    credentialIntro(s),
    tokenTable(s),
    ...wireBlocks(s),
  ]
}
