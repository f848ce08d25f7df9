// The articles' other claims: the fault one and the scale one are measured; the cookie, client and
// devtools ones are about what the code accepts, and are answered from it.
import type { FaultOutcome } from '../../results.ts'
import { f0, f2 } from '../format.ts'
import {
  type Claim,
  type Ctx,
  type Finding,
  instant,
  mode,
  notMeasured,
  swCell,
  windowText,
} from './context.ts'
import { planFigure } from './table-claims.ts'

const REVOCATION = 'Revocation window after logout-all'
/** Below this many Redis commands per request a mode counts as asking Redis nothing (noise, background). */
const IDLE_COMMANDS = 0.05
const status = (o: FaultOutcome | undefined, code: string) => o?.statusCounts[code] ?? 0
const answers = (o: FaultOutcome) =>
  `${o.ok}/${o.requests} ok${status(o, '401') ? `, 401×${status(o, '401')}` : ''}${status(o, '503') ? `, 503×${status(o, '503')}` : ''}`

function storeLost(c: Ctx): Finding {
  const lost = c.r.faults['redis-data-lost']
  if (!lost?.session)
    return notMeasured('A store restarted empty', "The bench's fault phase (`redis-data-lost`) measures it.")
  const loggedOut = status(lost.session, '401') > 0
  const tokens = ['jwt', 'jwt-denylist', 'jwt-pushed'].filter((m) => lost[m] && status(lost[m], '401') === 0)
  const topo = c.r.topologies ?? []
  const kept = topo.length > 0 && topo.every((t) => t.sessionsLost === 0)
  return {
    verdict: loggedOut ? 'conditional' : 'does not hold',
    short: loggedOut
      ? `only if the store loses its data, and only sessions${kept ? '; a restart from disk or a failover lost none' : ''}`
      : 'no session was refused after Redis restarted empty',
    because: loggedOut
      ? `Holds only when the store loses its data, and only for sessions: Redis restarted empty logged \`session\` users out (401), while ${tokens.map((m) => `\`${m}\``).join(', ')} kept their users (revocations are rebuilt from Postgres; live sessions are not).${kept ? ' A restart with its data, or a failover to a replica, lost no session.' : ''} A store that is only down does not log anyone out: it answers 503 until it is back.`
      : 'Does not hold in this run: no session was refused after Redis restarted empty.',
    figures: [
      ...['session', 'session-cached', 'phantom', ...tokens]
        .filter((m) => lost[m])
        .map(
          (m) =>
            `\`${m}\` while Redis restarted empty: ${c.fig(answers(lost[m]!), 'Faults')}${c.r.faults['redis-stopped']?.[m] ? `; while it was stopped: ${c.fig(answers(c.r.faults['redis-stopped'][m]!), 'Faults')}` : ''}`,
        ),
      ...topo.map(
        (t) =>
          `${t.topology}, ${t.fault.replace(/\.$/, '')}: ${c.fig(`${t.sessionsLost} of ${t.sessionsBefore} sessions lost`, 'Failover')}`,
      ),
    ],
    proof: [
      'bench phases `faults` and `failover`; tests *redis restarted with its data lost: no revoked credential becomes valid on any mode* (`packages/cluster/test/cluster.test.ts`); why sessions are not rebuilt: [revocation.md](revocation.md)',
    ],
  }
}

function crossDomain(): Finding {
  return {
    verdict: 'conditional',
    fromCode: true,
    short: 'only against cookie-only sessions: a session id can travel as a Bearer header too',
    because:
      'Holds only against a session read from a cookie alone. What a mobile or cross-domain client needs is a credential it sends in a header, and a session id can be one: ' +
      '`phantom` takes the session id as `Authorization: Bearer`, as the JWT modes take a JWT; `session`, `session-cached` and `introspect` read a session id from the `sid` cookie only. ' +
      'authlab grants no cross-origin (CORS) access, so a script on another origin cannot read an answer whatever the credential: a frontend on another domain needs a same-origin gateway or CORS with either kind.',
    figures: [],
    proof: [
      'test *phantom: GET /orders/phantom/me with the sid cookie and with the session id as Bearer is 200 on every replica, as the session’s user* (`packages/cluster/test/phantom.test.ts`)',
      'which credential each mode reads: [modes.md](modes.md#summary); the credential rule and CSRF: [auth-api.md](auth-api.md#cookies-and-csrf)',
    ],
  }
}

function hybrid(c: Ctx): Finding {
  const jwt = c.r.revocation.jwt
  return {
    verdict: 'holds',
    fromCode: true,
    short: "yes, and the hybrid keeps the JWT's revocation window",
    because:
      "Holds, and the hybrid keeps the JWT's revocation window. Every authlab JWT mode also takes the `access_token` cookie, `HttpOnly` and `SameSite=Strict`, so a script cannot read it; " +
      'a state-changing request authenticated by cookie needs the CSRF header. The cookie changes how the token travels, not how long it is valid.',
    figures: jwt
      ? [`\`jwt\`, cookie or header alike, after logout-all: ${c.fig(windowText(jwt), REVOCATION)}`]
      : [],
    proof: [
      'test *the JWT modes also take the access_token cookie set at login, on every replica* (`packages/cluster/test/cluster.test.ts`); cookie flags and CSRF: [auth-api.md](auth-api.md#cookies-and-csrf), [security.md](security.md)',
    ],
  }
}

/**
 * The load tokens add where the articles do not look: every active user refreshes once per token
 * lifetime, a write in the database; a session's lookups land in Redis.
 */
function refreshLoad(c: Ctx): string {
  const plans = c.scale?.plans
  const jwt = plans?.find((p) => p.mode === 'jwt')
  const session = plans?.find((p) => p.mode === 'session')
  if (!jwt || !session || !Number.isFinite(jwt.postgresCores)) return ''
  return (
    ` And the database load runs the other way for the database the articles mean: a token that lives minutes is refreshed, one Postgres write per active user per lifetime. For ${c.scale!.workload}, ` +
    `\`jwt\`'s refreshes need ${f2(jwt.postgresCores)} Postgres cores (${f0(jwt.postgresWritesPerS)} writes/s) and ${f2(jwt.authCores)} auth cores; \`session\`, ${f2(session.postgresCores)} Postgres cores and ${f2(session.authCores)} auth cores (its lookups land in Redis).`
  )
}

function atScale(c: Ctx): Finding {
  const run = c.wide
  const pushed = c.r.revocation['jwt-pushed']
  const s = mode(run, 'session')
  const p = mode(run, 'jwt-pushed')
  const j = mode(run, 'jwt')
  const cheapRevocation = !!pushed && !pushed.censored && (p?.redisCommandsPerRequest ?? 1) < IDLE_COMMANDS
  const load = !!s && !!j && s.redisCommandsPerRequest - j.redisCommandsPerRequest >= 1 - IDLE_COMMANDS
  return {
    verdict: !s || !j ? 'not measured' : load ? 'conditional' : 'does not hold',
    short: !load
      ? 'a session cost Redis no more commands per request than a JWT'
      : cheapRevocation
        ? 'per request, yes; but revocation without that load exists (`jwt-pushed`)'
        : 'per request, yes; the scale itself is a planner question',
    because:
      (load
        ? 'The first half holds per request: a session looked up on every request is one Redis command each, a JWT none, and that load grows with traffic. '
        : 'The first half does not hold in this run: `session` did not cost Redis a command per request more than `jwt`. ') +
      (cheapRevocation
        ? 'The second half does not: revocation without that load exists. `jwt-pushed` revoked on every replica within its bound with no Redis command per request, and `session-cached` bounds the lookups per session.'
        : 'Whether revocation can be had without it was not measured in this run.') +
      ' How much that load is for millions of users on dozens of servers is a planner question, below.' +
      refreshLoad(c),
    figures: [
      ...(s && p && run
        ? [
            `Redis commands per request (${run.replicas} replicas): \`session\` ${c.fig(f2(s.redisCommandsPerRequest), 'Cost per request')}, \`jwt-pushed\` ${c.fig(f2(p.redisCommandsPerRequest), 'Cost per request')}, \`jwt\` ${c.fig(f2(mode(run, 'jwt')?.redisCommandsPerRequest), 'Cost per request')}; Redis CPU per request: \`session\` ${c.fig(`${f2(s.redisCpuUsPerRequest)} µs`, 'Cost per request')}`,
          ]
        : []),
      ...(pushed ? [`\`jwt-pushed\` after logout-all: ${c.fig(windowText(pushed), REVOCATION)}`] : []),
      planFigure(c),
    ],
    proof: [
      'bench phase `sweep` (Redis commands per request, net of the idle rate); the capacity model ([benchmarking.md](benchmarking.md#capacity-model))',
    ],
  }
}

/** What the simple version, the tutorial code, gave up: measured by the peer probe. */
function tutorialFigures(c: Ctx): string[] {
  const p = c.r.peerProbe
  const other = p?.logoutAll['other-session']
  const token = p?.logout['textbook-jwt']
  if (!p || !other || !token) return []
  const TUTORIAL = 'authlab vs the tutorial code'
  return [
    `"simple" as the tutorial code is simple: after a logout-all, the user's other tutorial session was ${c.fig(`accepted on ${other.replicasAcceptingAfterRevoke} of ${other.replicasSeen} replicas`, TUTORIAL)} (${f0(other.acceptedAfterRevoke)} requests); its JWT after its logout, ${c.fig(`accepted on ${token.replicasAcceptingAfterRevoke} of ${token.replicasSeen} replicas`, TUTORIAL)}`,
  ]
}

function choose(c: Ctx): Finding {
  const rev = c.r.revocation
  const instantJwt = ['jwt-denylist', 'introspect'].filter((m) => instant(rev[m]))
  return {
    verdict: 'conditional',
    short: 'only as a first cut: each half rests on a condition above',
    because:
      "Holds only as a rough first cut; each half rests on a condition measured above. Simplicity is the tutorial code's, and it gave up control (below). Tight control (instant revocation and role changes) " +
      `${instantJwt.length ? `is not a session property: ${instantJwt.map((m) => `\`${m}\``).join(' and ')} gave it with tokens` : 'was measured for sessions only'}; ` +
      'scale is limited by a lookup on every request, not by sessions (claim 3); speed favours JWT only while tokens verify from cache (claim 4); mobile clients can send a session id as a header (claim 9).',
    figures: [
      `replica CPU vs \`none\`, same window: ${['session', 'session-cached', 'jwt', 'jwt-denylist', 'jwt-pushed'].map((m) => `\`${m}\` ${c.fig(swCell(c.warm, m), 'Decision table')}`).join(', ')}`,
      ...tutorialFigures(c),
    ],
    proof: [
      'the decision table ([README](../README.md#which-mode)) puts the cost, the revocation bound and the Redis-down behaviour of every mode side by side',
    ],
  }
}

function devtools(): Finding {
  return {
    verdict: 'does not hold',
    fromCode: true,
    short: 'both credentials are HttpOnly cookies, and a name is not a kind',
    because:
      'Does not hold for authlab: it sets both credentials as `HttpOnly` cookies (`sid` and `access_token`, `__Host-` prefixed when secure), which no script reads and localStorage never sees; ' +
      "a browser's login answer carries the session id and the refresh token only as cookies (the access token is also in the body, for clients that send it as a header). A cookie's name says what the site called it; only its value (three dot-separated base64url parts for a JWT) says what it is, and `phantom` turns a session into a JWT behind the gateway, where no devtools look.",
    figures: [],
    proof: [
      'cookies and their flags: [auth-api.md](auth-api.md#cookies-and-csrf); the threat they answer: [security.md](security.md#threats-and-defences)',
    ],
  }
}

export const OTHER_CLAIMS: readonly Claim[] = [
  {
    source: { bullet: 'A session store lost or restarted logs everyone out' },
    title: 'A lost session store logs everyone out',
    said: 'If the session store is lost or restarted, every user is logged out.',
    check: storeLost,
  },
  {
    source: { bullet: 'JWTs are the natural fit for cross-domain' },
    title: 'JWT is the fit for cross-domain and mobile clients',
    said: 'Frontends on other domains and mobile apps are naturally served with JWTs.',
    check: crossDomain,
  },
  {
    source: { bullet: 'Cookies are only a transport' },
    title: 'Cookies are a transport; a JWT in an HttpOnly cookie is a hybrid',
    said: 'A cookie can carry a session id or a JWT; a JWT in an HttpOnly cookie combines protection against script theft with stateless scaling.',
    check: hybrid,
  },
  {
    source: { bullet: 'At large scale' },
    title: 'At scale, tokens cut database load; instant revocation is why to accept it',
    said: 'With millions of users and dozens of servers stateless tokens reduce database load significantly; instant revocation is the reason to pay that load anyway.',
    check: atScale,
  },
  {
    source: { bullet: 'Choose sessions for tight control' },
    title: 'Sessions for control and simplicity, JWT for scale, speed and mobile',
    said: 'Pick sessions for tight control and simplicity, JWT for scale, speed and mobile clients.',
    check: choose,
  },
  {
    source: { bullet: 'A reader can tell which a site uses' },
    title: 'Devtools tell which a site uses',
    said: "The browser's developer tools show it: a session-id cookie (`connect.sid`, `session_id`) for sessions, a `token` or `jwt` entry in localStorage for JWT.",
    check: devtools,
  },
]
