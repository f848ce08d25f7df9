// Throughput of every mode through the gateway, one mode at a time (one scenario per mode, named
// after it). Run: k6 run -e BASE_URL=http://127.0.0.1:8080 [-e TOKEN_PROFILE=cold] throughput.js
// Options: MODES=jwt,session  VUS=50  DURATION=30s  TOKEN_PROFILE=warm|cold  P99_MS=1000
//          REQUEST_TIMEOUT=5s
// `k6 run --duration 2m` (or --vus, --iterations) replaces the scenarios with one called `default`:
// the modes then take turns within it, each request still tagged with its mode.
// Thresholds, per mode: 99 % of requests answered 200, p(99) latency under P99_MS; and no failed
// token refresh. An access token that expires mid-run (ACCESS_TOKEN_TTL_S, 300 s in compose) is
// refreshed on its 401 and the request sent again.
import { check } from 'k6'
import exec from 'k6/execution'
import http from 'k6/http'
import {
  baseUrl,
  cell,
  login,
  logoutEach,
  metricValue,
  REQUEST_TIMEOUT,
  refresh,
  summaryOutputs,
  tryRefresh,
} from './lib/k6.js'
import {
  CREDENTIAL,
  durationSeconds,
  headersFor,
  loginsOf,
  modeFor,
  parseModes,
  pathFor,
  SERVICES,
  tokenProfile,
} from './lib/scenarios.js'

const profileName = __ENV.TOKEN_PROFILE || 'warm'
const profile = tokenProfile(profileName)
const modes = parseModes(__ENV.MODES)
const vus = Number(__ENV.VUS || 50)
const durationS = durationSeconds(__ENV.DURATION || '30s')
const p99Ms = Number(__ENV.P99_MS || 1000)
if (!(Number.isInteger(vus) && vus > 0)) throw new Error(`VUS must be a positive integer, not "${__ENV.VUS}"`)
if (!(p99Ms > 0)) throw new Error(`P99_MS must be a positive number, not "${__ENV.P99_MS}"`)
/** Between two modes' scenarios; longer than GRACEFUL_STOP, so no two modes ever overlap. */
const GAP_S = 5
const GRACEFUL_STOP = '3s'

/** @type {import('k6/options').Options} */
export const options = {
  setupTimeout: '10m',
  teardownTimeout: '5m',
  // Only /auth answers are read (lib/k6.js asks for those bodies per request).
  discardResponseBodies: true,
  // `count` puts each mode's number of requests in the summary data, for the table below.
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(95)', 'p(99)', 'count'],
  scenarios: Object.fromEntries(
    modes.map((mode, i) => [
      mode,
      /** @type {import('k6/options').Scenario} */ ({
        executor: 'constant-vus',
        vus,
        duration: `${durationS}s`,
        startTime: `${i * (durationS + GAP_S)}s`,
        gracefulStop: GRACEFUL_STOP,
      }),
    ]),
  ),
  thresholds: {
    ...Object.fromEntries(modes.map((mode) => [`checks{mode:${mode}}`, ['rate>0.99']])),
    ...Object.fromEntries(modes.map((mode) => [`http_req_duration{mode:${mode}}`, [`p(99)<${p99Ms}`]])),
    refresh_failures: ['count==0'],
  },
}

/**
 * A login of the pool: its access tokens (the cold profile has several per login, each from a
 * refresh) and the one refresh token still unspent, the last one issued.
 * @typedef {{ userId: string, sessionId: string, refreshToken: string, accessTokens: string[] }} Pooled
 */

/** @typedef {{ base: string, logins: Pooled[] }} Data */

/**
 * warm: a few logins, one access token each, reused (verification caches hit). cold: more logins
 * than those caches hold, several refreshed access tokens each, cycled.
 * @returns {Data}
 */
export function setup() {
  const base = baseUrl()
  const run = Date.now()
  /** @type {Pooled[]} */
  const logins = []
  for (let i = 0; i < profile.logins; i++) {
    const first = login(base, run, i)
    const accessTokens = [first.accessToken]
    let refreshToken = first.refreshToken
    for (let t = 1; t < profile.tokensPerLogin; t++) {
      const pair = refresh(base, refreshToken)
      accessTokens.push(pair.accessToken)
      refreshToken = pair.refreshToken
    }
    logins.push({ userId: first.userId, sessionId: first.sessionId, refreshToken, accessTokens })
  }
  return { base, logins }
}

/** One access-token slot of a login this VU holds. */
/** @typedef {{ login: Pooled, slot: number }} Credential */

/** This VU's credentials (a VU's memory is its own: refreshed tokens stay here). */
/** @type {Credential[] | undefined} */
let mine

/**
 * @param {Data} data
 * @returns {Credential[]}
 */
function credentials(data) {
  if (mine === undefined) {
    const owned = loginsOf(exec.vu.idInTest, exec.instance.vusInitialized, data.logins.length)
    mine = owned.flatMap((i) => {
      const pooled = /** @type {Pooled} */ (data.logins[i])
      const login = { ...pooled, accessTokens: [...pooled.accessTokens] }
      return login.accessTokens.map((_, slot) => ({ login, slot }))
    })
  }
  return mine
}

/**
 * @param {string} base
 * @param {string} mode
 * @param {string} service
 * @param {Credential} cred
 */
function send(base, mode, service, cred) {
  const { login, slot } = cred
  return http.get(`${base}${pathFor(service, mode)}`, {
    headers: headersFor(mode, { sessionId: login.sessionId, accessToken: login.accessTokens[slot] }),
    tags: { mode },
    timeout: REQUEST_TIMEOUT,
  })
}

/**
 * Replaces an expired access token, and the refresh token spent for it; false when auth gave none
 * (logged and counted in refresh_failures).
 * @param {string} base
 * @param {Credential} cred
 */
function renew(base, cred) {
  const pair = tryRefresh(base, cred.login.refreshToken)
  if (!pair) return false
  cred.login.refreshToken = pair.refreshToken
  cred.login.accessTokens[cred.slot] = pair.accessToken
  return true
}

/** @param {Data} data */
export default function (data) {
  const mode = modeFor(exec.scenario.name, modes, exec.scenario.iterationInTest)
  const own = credentials(data)
  const cred = /** @type {Credential} */ (own[exec.vu.iterationInScenario % own.length])
  const service = /** @type {string} */ (SERVICES[exec.scenario.iterationInTest % SERVICES.length])
  let res = send(data.base, mode, service, cred)
  const bearer = CREDENTIAL[/** @type {keyof typeof CREDENTIAL} */ (mode)] === 'bearer'
  if (res.status === 401 && bearer && renew(data.base, cred)) res = send(data.base, mode, service, cred)
  check(res, { 'status 200': (r) => r.status === 200 }, { mode })
}

/** @param {Data} data */
export function teardown(data) {
  logoutEach(data.base, data.logins)
}

/** @param {import('./lib/k6.js').SummaryData} data */
export function handleSummary(data) {
  const ms = (/** @type {number} */ v) => v.toFixed(1)
  const lines = ['', 'mode | requests | checks passed | p50 ms | p95 ms | p99 ms', '---|---|---|---|---|---']
  for (const mode of modes) {
    const duration = `http_req_duration{mode:${mode}}`
    lines.push(
      [
        mode,
        cell(metricValue(data, duration, 'count')),
        cell(metricValue(data, `checks{mode:${mode}}`, 'rate'), (r) => `${(r * 100).toFixed(2)} %`),
        cell(metricValue(data, duration, 'med'), ms),
        cell(metricValue(data, duration, 'p(95)'), ms),
        cell(metricValue(data, duration, 'p(99)'), ms),
      ].join(' | '),
    )
  }
  return summaryOutputs(`throughput-${profileName}`, data, lines)
}
