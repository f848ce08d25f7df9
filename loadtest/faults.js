// Steady traffic on every mode while something breaks (you, or a script of yours, stop Redis, kill
// a replica, stop auth), and all along a credential revoked before the run, tried on every mode that
// must refuse it. Run: k6 run -e BASE_URL=http://127.0.0.1:8080 -e DURATION=60s faults.js
// Options: RATE=200 (requests/s)  VUS=50  DURATION=60s  REQUEST_TIMEOUT=5s
//          SESSION_CACHE_TTL_MS=2000 PUSHED_MAX_STALENESS_MS=2000 (set as the services are configured)
// Prints per mode how many answers were 200, 401, 503 or anything else (a timeout counts as
// status 0), and how often the revoked credential was accepted; each status is also counted in
// `responses{mode,status}` for k6's outputs. Threshold: no mode that promises revocation accepts
// the revoked credential, whatever breaks.
import { fail, sleep } from 'k6'
import exec from 'k6/execution'
import http from 'k6/http'
import { Counter } from 'k6/metrics'
import {
  baseUrl,
  cell,
  login,
  logoutAll,
  logoutEach,
  metricValue,
  REQUEST_TIMEOUT,
  summaryOutputs,
  tryRefresh,
} from './lib/k6.js'
import {
  CREDENTIAL,
  durationSeconds,
  EXPECTED_AFTER_REVOKE,
  headersFor,
  MODES,
  pathFor,
  SERVICES,
} from './lib/scenarios.js'

const rate = Number(__ENV.RATE || 200)
const duration = __ENV.DURATION || '60s'
durationSeconds(duration) // a typo is an error, not a default
if (!(Number.isInteger(rate) && rate > 0))
  throw new Error(`RATE must be a positive integer, not "${__ENV.RATE}"`)
// Never more VUs than requests per second: every VU then runs at least once a second, so the VUs,
// which share the valid login, all refresh its token within moments of each other (lib/scenarios.js
// loginsOf says why that matters).
const vus = Math.min(Number(__ENV.VUS || 50), rate)
if (!(Number.isInteger(vus) && vus > 0)) throw new Error(`VUS must be a positive integer, not "${__ENV.VUS}"`)
/** The eventual modes have converged on the revocation this long after logout-all. */
const settleMs =
  Math.max(Number(__ENV.SESSION_CACHE_TTL_MS || 2000), Number(__ENV.PUSHED_MAX_STALENESS_MS || 2000)) + 1000

const REVOKING = MODES.filter((mode) => EXPECTED_AFTER_REVOKE[mode] === 401)
/** What each answer is counted as. */
const CLASSES = /** @type {const} */ (['200', '401', '503', 'other'])

/** @type {import('k6/options').Options} */
export const options = {
  // Only /auth answers are read (lib/k6.js asks for those bodies per request).
  discardResponseBodies: true,
  scenarios: {
    steady: {
      executor: 'constant-arrival-rate',
      rate,
      timeUnit: '1s',
      duration,
      preAllocatedVUs: vus,
      maxVUs: vus,
      gracefulStop: '5s',
    },
  },
  thresholds: Object.fromEntries(REVOKING.map((mode) => [`revoked_accepted{mode:${mode}}`, ['count==0']])),
}

/**
 * The counter of one mode's answers of one class, e.g. answers_jwt_denylist_503.
 * @param {string} mode
 * @param {string} kind
 */
const answersMetric = (mode, kind) => `answers_${mode.replace(/-/g, '_')}_${kind}`

/** Every answer, by mode and status (for k6's outputs; the summary table reads `answers`). */
const responses = new Counter('responses')
/** The revoked credential got a 200 on a mode that must refuse it. */
const revokedAccepted = new Counter('revoked_accepted')
/** Per mode and class, one counter each: k6's summary data holds a tagged sub-metric only when a
 * threshold names it, and these counts are reported, not judged. */
const answers = Object.fromEntries(
  MODES.map((mode) => [
    mode,
    Object.fromEntries(CLASSES.map((c) => [c, new Counter(answersMetric(mode, c))])),
  ]),
)

/** @typedef {{ base: string, valid: import('./lib/k6.js').Login, revoked: import('./lib/k6.js').Login }} Data */

/** @returns {Data} */
export function setup() {
  const base = baseUrl()
  const run = `faults-${Date.now()}`
  const valid = login(base, run, 0)
  const revoked = login(base, run, 1)
  const out = logoutAll(base, revoked)
  if (out.status !== 204) fail(`logout-all answered ${out.status}: ${String(out.body).slice(0, 200)}`)
  // Past every eventual mode's bound: from here on, any acceptance is a revocation lost.
  sleep(settleMs / 1000)
  return { base, valid, revoked }
}

/** This VU's copy of the valid login: a refreshed access token stays with the VU that got it. */
/** @type {import('./lib/k6.js').Login | undefined} */
let valid

/**
 * @param {string} base
 * @param {string} service
 * @param {string} mode
 * @param {import('./lib/k6.js').Login} who
 */
function send(base, service, mode, who) {
  return http.get(`${base}${pathFor(service, mode)}`, {
    headers: headersFor(mode, who),
    tags: { mode },
    timeout: REQUEST_TIMEOUT,
  })
}

/** @param {Data} data */
export default function (data) {
  const it = exec.scenario.iterationInTest
  const mode = /** @type {(typeof MODES)[number]} */ (MODES[it % MODES.length])
  const service = /** @type {string} */ (SERVICES[it % SERVICES.length])
  // Every fourth pass over the modes, the revoked credential instead, where it must be refused.
  if (Math.floor(it / MODES.length) % 4 === 3 && REVOKING.includes(mode)) {
    if (send(data.base, service, mode, data.revoked).status === 200) revokedAccepted.add(1, { mode })
    return
  }
  if (valid === undefined) valid = { ...data.valid }
  let res = send(data.base, service, mode, valid)
  if (res.status === 401 && CREDENTIAL[mode] === 'bearer') {
    // Expired mid-run (ACCESS_TOKEN_TTL_S): renew and send again. While auth is down the refresh
    // fails too; that is logged and counted in refresh_failures, and the 401 stands.
    const pair = tryRefresh(data.base, valid.refreshToken)
    if (pair) {
      valid = { ...valid, ...pair }
      res = send(data.base, service, mode, valid)
    }
  }
  const status = res.status
  responses.add(1, { mode, status: String(status) })
  const kind = status === 200 ? '200' : status === 401 ? '401' : status === 503 ? '503' : 'other'
  answers[mode]?.[kind]?.add(1)
}

/** @param {Data} data */
export function teardown(data) {
  logoutEach(data.base, [data.valid])
}

/** @param {import('./lib/k6.js').SummaryData} data */
export function handleSummary(data) {
  const lines = [
    '',
    'mode | 200 | 401 | 503 | other (0 = timeout) | revoked credential accepted (modes that revoke)',
    '---|---|---|---|---|---',
  ]
  for (const mode of MODES) {
    // A counter that saw no sample is absent from the summary: it counted 0.
    const counts = CLASSES.map((c) => String(metricValue(data, answersMetric(mode, c), 'count') ?? 0))
    const revoked = REVOKING.includes(mode)
      ? cell(metricValue(data, `revoked_accepted{mode:${mode}}`, 'count'))
      : '–'
    lines.push([mode, ...counts, revoked].join(' | '))
  }
  return summaryOutputs('faults', data, lines)
}
