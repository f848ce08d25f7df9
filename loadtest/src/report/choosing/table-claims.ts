// The rows of the comparison table the articles end with, each checked against the run.
import type { Mode } from '../../credentials.ts'
import type { ModePlan } from '../../planner.ts'
import { f0, f2, finite, total } from '../format.ts'
import { MODE_FACTS } from '../mode-facts.ts'
import {
  above,
  type Claim,
  type Ctx,
  type Finding,
  instant,
  mode,
  notMeasured,
  ratio,
  runDesc,
  swCell,
  windowText,
} from './context.ts'

const REVOCATION = 'Revocation window after logout-all'
const PERMISSION = 'Permission change'
/** How close to `jwt`'s replica CPU a mode must come to count as costing about the same. */
const NEAR = 0.05

function storage(c: Ctx): Finding {
  const s = c.r.storage
  if (!s?.sessions.length)
    return notMeasured('Bytes per stored session', "The bench's storage phase measures them.")
  const sess = s.sessions.at(-1)!
  const rev = s.revocations.at(-1)
  const pushed = s.revocationSet.at(-1)
  return {
    verdict: 'conditional',
    short: 'for tokens only if they are never revoked: a revocable JWT stores each revocation',
    because:
      'Holds for sessions: each live login is a record in Redis. For tokens it holds only while they are never revoked before `exp`: ' +
      'a revocable token (`jwt-denylist`, `jwt-pushed`) keeps server-side state too, one entry per revocation instead of one per login.',
    figures: [
      `a live session: ${c.fig(`${f0(sess.bytesPerEntry)} bytes`, 'Storage')} of Redis memory each, at ${f0(sess.count)} live sessions`,
      ...(rev
        ? [
            `a revocation entry: ${c.fig(`${f0(rev.bytesPerEntry)} bytes`, 'Storage')} of Redis memory, at ${f0(rev.count)} live revocations`,
          ]
        : []),
      ...(pushed
        ? [
            `\`jwt-pushed\` also keeps the revocation set in every replica: ${c.fig(`${f0(pushed.heapPerEntry)} bytes of heap per revocation`, 'Storage')}, synced in ${c.fig(`${f0(pushed.syncMs)} ms`, 'Storage')} at connect with ${f0(pushed.count)} live`,
          ]
        : []),
      'stateless `jwt` stores nothing per login, and so can revoke nothing (claim 5)',
    ],
    proof: ['bench phase `storage` (`loadtest/src/storage.ts`); the keys: [revocation.md](revocation.md)'],
  }
}

function state(c: Ctx): Finding {
  const jwt = c.r.revocation.jwt
  const deny = c.r.revocation['jwt-denylist']
  return {
    verdict: jwt?.censored ? 'conditional' : 'not measured',
    short: 'only for tokens never revoked before `exp`; the login is state in every design',
    because:
      'Holds only for access tokens that are never revoked: keeping nothing means a token stays valid after its logout, until `exp`. ' +
      'And the login itself is state in every design: authlab keeps logins and refresh-token families in Postgres whatever the mode.',
    figures: [
      ...(jwt
        ? [
            `\`jwt\` after logout-all: ${c.fig(`${f0(jwt.acceptedAfterRevoke)} requests accepted on ${jwt.replicasAcceptingAfterRevoke} of ${jwt.replicasSeen} replicas`, REVOCATION)}, ${windowText(jwt)}`,
          ]
        : []),
      ...(deny
        ? [
            `\`jwt-denylist\`, which keeps a deny entry per revoked login: ${c.fig(windowText(deny), REVOCATION)}`,
          ]
        : []),
    ],
    proof: [
      'bench phase `revocation` (logout-all, every replica); [auth-api.md](auth-api.md) for the login and refresh records',
    ],
  }
}

/** The first replica count at which the capacity model says a mode stops scaling with replicas. */
function ceiling(c: Ctx, m: string): { at: string; rps: number; by: string } | undefined {
  const cap = c.r.capacityModel.modes[m]
  if (!cap) return undefined
  const counts = Object.keys(cap.predictedMaxRps).sort((a, b) => Number(a) - Number(b))
  const at = counts.find((n) => cap.limitedBy[n] && cap.limitedBy[n] !== 'replicas')
  return at ? { at, rps: cap.predictedMaxRps[at]!, by: cap.limitedBy[at]! } : undefined
}

function scalability(c: Ctx): Finding {
  const cap = c.r.capacityModel.modes
  const top = Object.keys(cap.jwt?.predictedMaxRps ?? cap.none?.predictedMaxRps ?? {}).at(-1)
  const session = ceiling(c, 'session')
  const flat = ['jwt', 'session-cached', 'phantom'].filter((m) => cap[m] && !ceiling(c, m))
  const lost = (c.r.topologies ?? []).map((t) => `${t.topology} ${t.sessionsLost} of ${t.sessionsBefore}`)
  return {
    verdict: session ? 'conditional' : 'does not hold',
    short: session
      ? `only for a lookup on every request, past what one Redis serves (${f0(session.rps)} req/s in the model)`
      : 'no mode stopped scaling in the modelled range',
    because: session
      ? `Holds only past what one Redis serves, and only for a session looked up on every request: the model has \`session\` stop scaling at ${f0(Number(session.at))} replicas, limited by ${session.by}, while ${flat.map((m) => `\`${m}\``).join(', ')} still scale with replicas at ${top}. \`session-cached\` and \`phantom\` keep server-side sessions; sharing the store is not what limits them.`
      : 'Within the modelled range no mode stopped scaling with replicas: the shared store was not the limit.',
    figures: [
      ...(session
        ? [
            `\`session\`: ${c.fig(`${f0(session.rps)} req/s`, 'Capacity model')} at most, from ${session.at} replicas (limited by ${session.by})`,
          ]
        : []),
      ...flat.map(
        (m) =>
          `\`${m}\` at ${top} replicas: ${c.fig(`${f0(cap[m]!.predictedMaxRps[top!])} req/s`, 'Capacity model')} (limited by replicas)`,
      ),
      ...(lost.length
        ? [`sessions lost when the shared Redis lost its primary: ${c.fig(lost.join(', '), 'Failover')}`]
        : []),
      planFigure(c),
    ],
    proof: [
      'the capacity model and its check against a Redis-bound run ([benchmarking.md](benchmarking.md#capacity-model)); bench phase `failover`',
    ],
  }
}

/** Per-request cost of a session lookup against a JWT check, warm and cold, as figures. */
function costFigures(c: Ctx): string[] {
  const out: string[] = []
  if (c.warm)
    out.push(
      `replica CPU per request vs \`none\`, same window (${runDesc(c.warm)}): \`session\` ${c.fig(swCell(c.warm, 'session'), 'Decision table')}, \`jwt\` ${c.fig(swCell(c.warm, 'jwt'), 'Decision table')}, \`session-cached\` ${c.fig(swCell(c.warm, 'session-cached'), 'Decision table')}; Redis commands per request: \`session\` ${c.fig(f2(mode(c.warm, 'session')?.redisCommandsPerRequest), 'Decision table')}, \`jwt\` ${c.fig(f2(mode(c.warm, 'jwt')?.redisCommandsPerRequest), 'Decision table')}`,
    )
  const s = mode(c.wide, 'session')
  const j = mode(c.wide, 'jwt')
  if (c.wide && s && j)
    out.push(
      `every tier's CPU per request (${runDesc(c.wide)}): \`session\` ${c.fig(`${f0(total(s))} µs`, 'Cost per request')}, \`jwt\` ${c.fig(`${f0(total(j))} µs`, 'Cost per request')}; p99 at a fixed rate: \`session\` ${c.fig(`${f2(s.p99Ms)} ms`, 'Throughput (saturation)')}, \`jwt\` ${c.fig(`${f2(j.p99Ms)} ms`, 'Throughput (saturation)')}`,
    )
  if (c.cold)
    out.push(
      `with cold tokens (${runDesc(c.cold)}, every token new to the replica): \`session\` ${c.fig(swCell(c.cold, 'session'), 'Cold tokens')}, \`jwt\` ${c.fig(swCell(c.cold, 'jwt'), 'Cold tokens')} of \`none\`'s replica CPU`,
    )
  return out
}

function localMathFigure(c: Ctx): string[] {
  const alg = c.warm?.algorithm ?? 'EdDSA'
  const v = c.r.algorithms?.verify[alg]
  if (!v) return []
  const rtt = c.r.algorithms?.redisRoundTripUs
  return [
    `"local math": one ${alg} verification of a token not seen before costs ${c.fig(`${f0(v.coldVerifyUs)} µs`, 'Signing algorithm')} of CPU, of one seen before ${c.fig(`${f2(v.warmVerifyUs)} µs`, 'Signing algorithm')}${rtt ? `; a Redis round trip from the bench took ${f0(rtt)} µs of wall time` : ''}`,
  ]
}

function performance(c: Ctx): Finding {
  const warm = above(ratio(c.warm, 'session'), ratio(c.warm, 'jwt'))
  const coldRev = above(ratio(c.cold, 'jwt'), ratio(c.cold, 'session'))
  const cached = !above(ratio(c.warm, 'session-cached'), ratio(c.warm, 'jwt'))
  const lookup = cached
    ? ' The weight is the lookup on every request, not the session: `session-cached`, a session checked against Redis at most once per cache TTL, cost no more than `jwt`.'
    : ''
  const because = !warm
    ? 'Does not hold in this run: `session` did not cost the replicas measurably more than `jwt`.'
    : coldRev
      ? `Holds only while replicas verify tokens they have seen before: with warm tokens \`session\` cost more than \`jwt\`, but with cold tokens (every token new, no cache can help) \`jwt\` cost more than \`session\`: a signature check is dearer than a Redis lookup.${lookup}`
      : `Holds: \`session\` cost the replicas more per request than \`jwt\`, warm tokens${c.cold ? ' and cold' : ''}.${lookup}`
  return {
    verdict: !warm ? 'does not hold' : coldRev ? 'conditional' : 'holds',
    short: !warm
      ? '`session` did not cost measurably more than `jwt`'
      : coldRev
        ? 'only with warm tokens; with cold tokens `jwt` cost the replicas more than `session`'
        : '`session` cost the replicas more than `jwt`',
    because,
    figures: [...costFigures(c), ...localMathFigure(c)],
    proof: [
      'bench phases `sweep` (same-window ratios, by tier) and `algorithms`; [benchmarking.md](benchmarking.md#warm-and-cold-tokens)',
    ],
  }
}

function revocation(c: Ctx): Finding {
  const rev = c.r.revocation
  const bounded = ['jwt-denylist', 'jwt-pushed'].filter((m) => rev[m] && !rev[m]!.censored)
  const cachedSessions = ['session-cached', 'phantom'].filter((m) => rev[m] && !instant(rev[m]))
  return {
    verdict: instant(rev.session) && rev.jwt?.censored ? 'conditional' : 'not measured',
    short:
      'for `session` and plain `jwt`; JWTs with a denylist or a pushed list revoked within their bound, cached sessions did not at once',
    because:
      `Holds for \`session\` and for plain \`jwt\`, and not as a property of either kind: ${bounded.length ? `${bounded.map((m) => `\`${m}\``).join(' and ')} revoked JWTs within their bound on every replica, ` : ''}` +
      `${cachedSessions.length ? `while a cached session (${cachedSessions.map((m) => `\`${m}\``).join(', ')}) was not instant` : 'and every session mode was instant'}. "Hard" means a check on every request or a pushed list, and their cost is in claims 4 and 11.`,
    figures: [
      ...['session', 'jwt', 'jwt-denylist', 'jwt-pushed', 'session-cached', 'phantom']
        .filter((m) => rev[m])
        .map(
          (m) =>
            `\`${m}\` after logout-all: ${c.fig(windowText(rev[m]), REVOCATION)}; after a role was withdrawn: ${c.r.permissionChange?.[m] ? c.fig(windowText(c.r.permissionChange[m]), PERMISSION) : 'not probed'}`,
        ),
      ...lifetimeFigures(c),
    ],
    proof: [
      'bench phases `revocation` and `permission` (every replica); the chaos test holds every mode to its bound under faults ([revocation.md](revocation.md#the-chaos-test))',
    ],
  }
}

/** The run page's size section; the link falls back to the page until its heading matches. */
const SIZE = 'Size'

function payload(c: Ctx): Finding {
  const size = c.r.size
  const cred = size?.credentialBytes ?? {}
  const session = cred.session
  const jwt = cred.jwt
  if (!size || session === undefined || jwt === undefined)
    return notMeasured(
      'Bytes per credential and per request',
      "The bench's size phase measures them (`results.size`).",
    )
  const bigger = jwt > session
  const largest = [...size.tokens].sort((a, b) => b.authorizationBytes - a.authorizationBytes)[0]
  const wire = ['session', 'jwt'].flatMap((m) => {
    const w = size.wire.find((row) => row.mode === m)
    return w
      ? [
          `\`${m}\`: ${c.fig(`${f0(w.requestBytes)} bytes`, SIZE)} per request at the gateway (median, headers included)`,
        ]
      : []
  })
  return {
    verdict: bigger ? 'holds' : 'does not hold',
    short: bigger
      ? `a JWT weighed ${f0(jwt)} bytes, a session cookie ${f0(session)}`
      : 'the JWT was not larger than the session cookie',
    because: bigger
      ? `Holds: a JWT carries its claims (${size.claims.map((x) => `\`${x}\``).join(', ')}) with every request, a session only its id. Whether the difference matters is the bandwidth it adds at a given load (the planner, claim 11).`
      : 'Does not hold in this run: the JWT was not larger than the session cookie.',
    figures: [
      `the credential a request carries: \`session\` ${c.fig(`${f0(session)} bytes`, SIZE)}, \`jwt\` ${c.fig(`${f0(jwt)} bytes`, SIZE)}`,
      ...(largest
        ? [
            `a ${largest.algorithm} token with ${largest.claims}: ${c.fig(`${f0(largest.authorizationBytes)} bytes`, SIZE)} as an \`Authorization\` header`,
          ]
        : []),
      ...wire,
    ],
    proof: ['bench phase `size` (`loadtest/src/size.ts`)'],
  }
}

/** What each lifetime costs in refreshes: `jwt`'s revocation window is its token lifetime. */
export function lifetimeFigures(c: Ctx): string[] {
  const t = c.r.tokenLifetime
  if (!t?.points.length)
    return [
      "what a shorter token lifetime costs in refreshes: not measured in this run (the bench's token-lifetime phase measures it)",
    ]
  const cells = t.points.map(
    (p) =>
      `${f0(p.ttlS)} s: ${c.fig(`${f2(p.per1000Users.refreshesPerS)} refreshes/s, ${f2(p.per1000Users.cpuMsPerS)} core-ms/s`, 'Token lifetime')}`,
  )
  return [
    `\`jwt\`'s window is its token lifetime; what each lifetime costs per 1,000 active users: ${cells.join('; ')}`,
  ]
}

/** The planner's replicas and Redis for the caller's workload, or what would measure them. */
export function planFigure(c: Ctx): string {
  const s = c.scale
  if (!s?.plans.length)
    return 'cost at a given scale (replicas, Redis cores and memory for a number of users): not measured in this run; the planner (`pnpm plan`) computes it from a run with a capacity calibration'
  const cell = (p: ModePlan) =>
    `\`${p.mode}\` ${f0(p.replicas)} replicas, ${f2(p.redisCores)} Redis cores (${p.redisShards} ${p.redisShards === 1 ? 'primary' : 'primaries'}), first bottleneck ${p.firstBottleneck.part}`
  const shown = s.plans.filter((p) =>
    ['session', 'session-cached', 'jwt', 'jwt-denylist', 'jwt-pushed'].includes(p.mode),
  )
  return `the planner (\`pnpm plan\`) for ${s.workload}: ${shown.map(cell).join('; ')}`
}

/** Modes whose contract is "at once" and that measured so: the bank's requirement. */
function strictModes(c: Ctx): string[] {
  const perm = c.r.permissionChange
  return Object.keys(c.r.revocation).filter(
    (m) =>
      MODE_FACTS[m as Mode]?.bound === 'at once' && instant(c.r.revocation[m]) && (!perm || instant(perm[m])),
  )
}

function bestFor(c: Ctx): Finding {
  const rev = c.r.revocation
  const strict = strictModes(c)
  const jwt = ratio(c.warm, 'jwt')
  const bounded = Object.keys(rev).filter((m) => !rev[m]!.censored && !strict.includes(m))
  const cheap = bounded.filter(
    (m) => jwt && finite(jwt.median) && (ratio(c.warm, m)?.median ?? Infinity) <= jwt.median * (1 + NEAR),
  )
  return {
    verdict: 'conditional',
    short:
      'only as a proxy for the revocation bound needed; tokens met the strict bound and sessions the loose one',
    because:
      'Holds only as a proxy for the revocation bound an application needs, which is what decides. A bank needs a logout and a withdrawn role to act at once on every service: ' +
      `${strict.map((m) => `\`${m}\``).join(', ')} did${strict.some((m) => m.startsWith('jwt')) ? ', JWT modes among them' : ''}, each with a lookup per request. ` +
      (cheap.length
        ? `A fleet of microservices that accepts a bounded window (a cache TTL, a pushed list) gets it from ${cheap.map((m) => `\`${m}\``).join(', ')}${cheap.some((m) => m.startsWith('session') || m === 'phantom') ? ', sessions among them,' : ''} within ${f0(100 * NEAR)} % of \`jwt\`'s replica CPU.`
        : "No bounded mode came within reach of `jwt`'s replica CPU in this run."),
    figures: [
      ...strict.map(
        (m) =>
          `\`${m}\`: revoked ${c.fig(windowText(rev[m]), REVOCATION)}, replica CPU ${c.fig(swCell(c.warm, m), 'Decision table')} of \`none\`'s`,
      ),
      ...bounded.map(
        (m) =>
          `\`${m}\` (bound: ${MODE_FACTS[m as Mode]?.bound}): revoked ${c.fig(windowText(rev[m]), REVOCATION)}, replica CPU ${c.fig(swCell(c.warm, m), 'Decision table')} of \`none\`'s`,
      ),
      `\`jwt\`, the articles' choice for microservices: ${c.fig(swCell(c.warm, 'jwt'), 'Decision table')}, revoked ${c.fig(windowText(rev.jwt), REVOCATION)}`,
    ],
    proof: [
      'the decision table ([README](../README.md#which-mode)); [modes.md](modes.md#summary) for each bound and the test that proves it',
    ],
  }
}

export const TABLE_CLAIMS: readonly Claim[] = [
  {
    source: { row: 'storage' },
    title: 'Sessions live on the server, tokens on the client',
    said: 'A session is kept server side, in a database or Redis; a token is kept by the client, in a cookie or localStorage.',
    check: storage,
  },
  {
    source: { row: 'state' },
    title: 'The server tracks sessions and keeps nothing for tokens',
    said: 'With sessions the server tracks every active login; with tokens it keeps nothing once it has issued one.',
    check: state,
  },
  {
    source: { row: 'scalability' },
    title: 'Sessions are harder to scale',
    said: "Sessions scale worse, since every server must share the session store; any server can verify a token's signature on its own.",
    check: scalability,
  },
  {
    source: { row: 'performance' },
    title: 'Sessions are heavy, JWT is lightweight',
    said: 'A session costs a store lookup on every request and is slower; a JWT is verified by local computation and is faster.',
    check: performance,
  },
  {
    source: { row: 'revocation' },
    title: 'Revoking a session is instant, a JWT is hard to revoke',
    said: 'Deleting a session ends it at once; a JWT stays valid until it expires unless a blacklist is built.',
    check: revocation,
  },
  {
    source: { row: 'payload / size' },
    title: 'A session id is small, a JWT is large',
    said: 'Only an id travels with a session; a JWT carries its claims with every request.',
    check: payload,
  },
  {
    source: { row: 'best for' },
    title: 'JWT for microservices and mobile, sessions for banking',
    said: 'Sessions suit server-rendered sites and high-security applications such as banking; JWT suits single-page apps, mobile apps, APIs and microservices.',
    check: bestFor,
  },
]
