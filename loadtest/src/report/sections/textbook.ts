// authlab beside the tutorial code (the textbook peer): what each costs per request, measured in
// one run, and what the tutorial lacks, each lack backed by this run's peer probe or named as
// structural with the test that shows it.
import type { ModeRun, PeerProbe, Results, RevocationSummary, Run } from '../../results.ts'
import { decisionRun, f0, f1, f2, sameWindow } from '../format.ts'
import { markdown } from '../markdown.ts'
import type { Block } from '../model.ts'

type Table = { caption: string; head: string[]; rows: string[][] }

/** Each authlab mode beside the tutorial row that does the same job. */
const PAIRS = [
  ['session', 'textbook-session'],
  ['jwt', 'textbook-jwt'],
] as const

/** packages/cluster/test/textbook.test.ts, by the names its tests carry. */
const TESTS = {
  forged:
    'a forged, tampered, expired, HS256 (the public key as its secret) or alg=none token is refused with 401 on every replica',
  login:
    "login gives a session cookie that answers on every replica (the sessions live in the shared Redis) and an ES256 JWT whose sub is the user's id",
  logout:
    'after logout the session is refused on every replica, while the JWT of that login still answers 200 on every replica until its exp (the tutorial cannot revoke it)',
  twoLogins:
    "two logins of one user are two sessions: logging out one leaves the other working on every replica (no logout-all: nothing indexes a user's sessions)",
}

/** The run the comparison reads: the decision table's when it measured the peer, else the largest warm one. */
function peerRun(r: Results): Run | undefined {
  const head = decisionRun(r)
  if (head?.peers) return head
  const withPeers = r.runs.filter((x) => x.peers)
  const order = (x: Run) => (x.tokenProfile === 'warm' ? 1000 : 0) + x.replicas
  return [...withPeers].sort((a, b) => order(b) - order(a))[0]
}

function costRow(name: string, code: string, m: ModeRun | undefined): string[] {
  if (!m) return [`\`${name}\``, code, '–', '–', '–', '–']
  const ratio = name === 'none' ? '1.00×' : sameWindow(m)
  return [`\`${name}\``, code, ratio, f2(m.redisCommandsPerRequest), f0(m.rps), f1(m.p95Ms)]
}

/**
 * The cost table: `none`, then each authlab mode beside its tutorial counterpart, all from one run.
 * Exported for the README's generated block (see tutorialMarkdown).
 */
export function tutorialTable(r: Results): Table | undefined {
  const run = peerRun(r)
  if (!run?.peers) return undefined
  const rate = run.modes.none?.latencyRate ?? Object.values(run.peers)[0]?.latencyRate
  const rows = [
    costRow('none', 'the baseline', run.modes.none),
    ...PAIRS.flatMap(([mode, peer]) => [
      costRow(mode, 'authlab', run.modes[mode]),
      costRow(peer, 'tutorial', run.peers?.[peer]),
    ]),
  ]
  return {
    caption:
      `${run.replicas} replica(s) per service, ${run.tokenProfile} tokens, one run. A tutorial row's same-window ratio is ` +
      "the textbook replicas (Express, express-session or jsonwebtoken) against `none` on orders or profile (Fastify), so it carries the framework's cost as well as the check's. " +
      `Throughput at saturation (closed loop); p95 at one fixed rate for every row (${f0(rate)} req/s).`,
    head: [
      'row',
      'code',
      'replica CPU vs `none` (same window, 95 % CI)',
      'Redis commands / request',
      'throughput (req/s)',
      'p95 at the fixed rate (ms)',
    ],
    rows,
  }
}

const on = (s: RevocationSummary, p: PeerProbe) => `${s.replicasAcceptingAfterRevoke}/${p.replicas} replicas`
const upTo = (s: RevocationSummary, p: PeerProbe) =>
  `${f0(s.acceptedAfterRevoke)} requests accepted after it, the last ${f0(s.windowMsMax)} ms into the ${f0(p.windowMs)} ms window, ${s.trials} trials`

/** The lacks this run's peer probe shows; none where a probe result is missing. */
function probedLacks(p: PeerProbe, ttlS: unknown): string[][] {
  const { logout, logoutAll } = p
  const rows: string[][] = []
  const [other, authlab] = [logoutAll['other-session'], logoutAll['authlab-session']]
  if (other && authlab)
    rows.push([
      'logout-all',
      `after authlab's logout-all for the user and the textbook logout of its first session, the user's other textbook session was accepted on ${on(other, p)} (${upTo(other, p)}); authlab's \`session\` for the same user in the same trial: ${authlab.acceptedAfterRevoke} accepted after logout-all`,
      `peer probe \`logoutAll\`: \`other-session\`, \`authlab-session\`; test "${TESTS.twoLogins}"`,
    ])
  const [jwt, session] = [logout['textbook-jwt'], logout['textbook-session']]
  if (jwt && session) {
    const lifetime = Number.isFinite(Number(ttlS)) ? ` (tokens lived ${f0(Number(ttlS))} s in this run)` : ''
    rows.push([
      'revoking a JWT',
      `after POST /textbook/logout the login's JWT was accepted on ${on(jwt, p)} (${upTo(jwt, p)}): it lives until \`exp\`${lifetime}; the session of that login: ${session.acceptedAfterRevoke} accepted after logout`,
      `peer probe \`logout\`: \`textbook-jwt\`, \`textbook-session\`; test "${TESTS.logout}"`,
    ])
  }
  const [mine, theirs, denylist] = [
    logoutAll['logged-out-jwt'],
    logoutAll['other-jwt'],
    logoutAll['authlab-jwt-denylist'],
  ]
  if (mine && theirs && denylist)
    rows.push([
      "revoking a user's tokens",
      `after the same logout-all, the JWT of the logged-out session was accepted on ${on(mine, p)} and the other login's on ${on(theirs, p)}; authlab's \`jwt-denylist\` for the same user: ${denylist.acceptedAfterRevoke} accepted after logout-all`,
      'peer probe `logoutAll`: `logged-out-jwt`, `other-jwt`, `authlab-jwt-denylist`',
    ])
  return rows
}

/** Lacks that follow from the code itself, not from a race a probe could time. */
const STRUCTURAL: string[][] = [
  [
    'issuer and audience pinning',
    'structural: `jwt.verify` pins the algorithm only, so any token the key signed is accepted, whatever it was issued for',
    `test "${TESTS.forged}": its control token, with \`sub\`, \`iat\` and \`exp\` only (no \`iss\`, no \`aud\`), answers 200 on every replica`,
  ],
  [
    'key rotation, JWKS',
    'structural: one signing key, read at start; tokens carry no `kid` and no JWKS is published, so a new key means a restart that invalidates every token at once',
    'services/textbook/src/server.ts (no test: there is nothing to rotate)',
  ],
  [
    'roles',
    'structural: the session and the token carry the user id only; `/me` answers `{ sub, replica }`',
    `test "${TESTS.login}": the body is exactly \`{ sub, replica }\``,
  ],
]

/** What the tutorial lacks: the probed lines (this run's peer probe) first, then the structural ones. */
export function tutorialLacks(r: Results): { head: string[]; rows: string[][] } | undefined {
  if (!peerRun(r) && !r.peerProbe) return undefined
  const probed = r.peerProbe ? probedLacks(r.peerProbe, r.settings.accessTokenTtlS) : []
  return {
    head: ['what the tutorial lacks', 'what this run shows', 'evidence'],
    rows: [...probed, ...STRUCTURAL],
  }
}

/** Both tables as Markdown, for the README's generated block; undefined when the run had no peer. */
export function tutorialMarkdown(r: Results): string | undefined {
  const table = tutorialTable(r)
  const lacks = tutorialLacks(r)
  if (!table || !lacks) return undefined
  return markdown([
    { kind: 'table', head: table.head, rows: table.rows },
    { kind: 'p', text: table.caption },
    { kind: 'table', head: lacks.head, rows: lacks.rows },
  ])
}

export function textbook(r: Results): Block[] {
  const table = tutorialTable(r)
  const lacks = tutorialLacks(r)
  if (!lacks) return []
  return [
    { kind: 'h2', text: 'authlab vs the tutorial code' },
    {
      kind: 'p',
      text: "`textbook` (services/textbook) is the code the introductory articles teach (Express, express-session with connect-redis, jsonwebtoken ES256), run behind the same gateway on the same Redis as a deliberately plain baseline, not code to copy. Its session ends at logout on every replica; what it cannot do is below, each line from this run's peer probe or the test that shows it.",
    },
    ...(table
      ? [
          { kind: 'p' as const, text: table.caption },
          { kind: 'table' as const, head: table.head, rows: table.rows },
        ]
      : []),
    { kind: 'table', head: lacks.head, rows: lacks.rows },
  ]
}
