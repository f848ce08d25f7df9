// Revocation window per mode. Each trial logs a user in, checks that every mode accepts the
// credential, calls logout-all, then keeps sending requests on every mode across all replicas for
// WINDOW_MS and records, for every request started after logout-all returned that still got a 200,
// the mode, the replica and how long after the revoke that request started.
// Run: k6 run -e BASE_URL=http://127.0.0.1:8080 revocation.js   (TRIALS=20 WINDOW_MS=3000)
// The exit code carries the claim. Thresholds fail the run if: a trial's credential was not accepted
// before the revoke (the trial would prove nothing); an immediate mode accepts a revoked credential
// at all, or an eventual one beyond its bound (set the bounds as the services are configured:
// SESSION_CACHE_TTL_MS, PUSHED_MAX_STALENESS_MS, PHANTOM_CACHE_TTL_MS; compose's defaults are 2000,
// 2000 and 1000); a revoking mode never
// refused (401) the revoked credential; or any request after the revoke got neither 200 nor 401
// (a 503, a timeout: an error, not a refusal).
import { fail } from 'k6'
import http from 'k6/http'
import { Counter, Trend } from 'k6/metrics'
import { baseUrl, cell, login, logoutAll, metricValue, REQUEST_TIMEOUT, summaryOutputs } from './lib/k6.js'
import {
  EVENTUAL_REVOCATION,
  EXPECTED_AFTER_REVOKE,
  headersFor,
  IMMEDIATE_REVOCATION,
  MODES,
  pathFor,
  SERVICES,
} from './lib/scenarios.js'

const windowMs = Number(__ENV.WINDOW_MS || 3000)
const perMode = Number(__ENV.REQUESTS_PER_MODE || 6)
const trials = Number(__ENV.TRIALS || 20)
/** @type {Record<string, number>} */
const bounds = {
  'session-cached': Number(__ENV.SESSION_CACHE_TTL_MS || 2000),
  'jwt-pushed': Number(__ENV.PUSHED_MAX_STALENESS_MS || 2000),
  phantom: Number(__ENV.PHANTOM_CACHE_TTL_MS || 1000),
}
for (const [name, value] of Object.entries({
  WINDOW_MS: windowMs,
  REQUESTS_PER_MODE: perMode,
  TRIALS: trials,
}))
  if (!(Number.isInteger(value) && value > 0)) throw new Error(`${name} must be a positive integer`)
for (const mode of EVENTUAL_REVOCATION) {
  const bound = bounds[mode]
  if (!(bound !== undefined && bound > 0 && bound < windowMs))
    throw new Error(`${mode}'s bound (${bound} ms) must be positive and below WINDOW_MS (${windowMs} ms)`)
}

/** Every mode the trials send, with the status it must get once the revocation has taken effect. */
const SENT = MODES.filter((mode) => mode !== 'none')
const REVOKING = SENT.filter((mode) => EXPECTED_AFTER_REVOKE[mode] === 401)

// A 401 after logout-all is the expected answer, not a failed request.
http.setResponseCallback(http.expectedStatuses(200, 201, 204, 401))

/** @type {import('k6/options').Options} */
export const options = {
  // Only /auth answers are read (lib/k6.js asks for those bodies per request).
  discardResponseBodies: true,
  scenarios: {
    revocation: { executor: 'per-vu-iterations', vus: 1, iterations: trials, maxDuration: '30m' },
  },
  thresholds: {
    rejected_before_revoke: ['count==0'],
    errors_after_revoke: ['count==0'],
    ...Object.fromEntries(
      IMMEDIATE_REVOCATION.map((mode) => [`accepted_after_revoke{mode:${mode}}`, ['count==0']]),
    ),
    ...Object.fromEntries(
      EVENTUAL_REVOCATION.map((mode) => [`revocation_window_ms{mode:${mode}}`, [`max<${bounds[mode]}`]]),
    ),
    ...Object.fromEntries(REVOKING.map((mode) => [`refused_after_revoke{mode:${mode}}`, ['count>0']])),
  },
}

/** Requests of the round before logout-all that did not get their 200. */
const rejectedBeforeRevoke = new Counter('rejected_before_revoke')
/** Requests started after logout-all returned that got a 200 where the mode must refuse. */
const acceptedAfterRevoke = new Counter('accepted_after_revoke')
/** Requests started after logout-all returned that got the 401 the mode must give. */
const refusedAfterRevoke = new Counter('refused_after_revoke')
/** Requests after logout-all that got neither 200 nor the mode's 401: 503, 5xx, a timeout (0). */
const errorsAfterRevoke = new Counter('errors_after_revoke')
/** Per trial and eventual mode: how long after the revoke the last accepted request started. */
const windowTrend = new Trend('revocation_window_ms')

/**
 * One request on every mode, perMode times over, spread over both services (and so, through the
 * gateway, over the replicas). Sent one by one, so each has its own start time.
 * @param {string} base
 * @param {import('./lib/k6.js').Login} user
 * @param {(mode: string, res: import('k6/http').RefinedResponse<'none'>, sent: number) => void} answered
 */
function round(base, user, answered) {
  for (let i = 0; i < perMode; i++) {
    const service = /** @type {string} */ (SERVICES[i % SERVICES.length])
    for (const mode of SENT) {
      const sent = Date.now()
      const res = http.get(`${base}${pathFor(service, mode)}`, {
        headers: headersFor(mode, user),
        tags: { mode },
        timeout: REQUEST_TIMEOUT,
        responseType: 'none',
      })
      answered(mode, res, sent)
    }
  }
}

export default function () {
  const base = baseUrl()
  const user = login(base, `rev-${__VU}-${Date.now()}`, __ITER)
  // Every replica sees (and, for caching modes, caches) the live credential; it must accept it,
  // or the trial shows nothing about revocation.
  let rejected = 0
  round(base, user, (mode, res) => {
    if (res.status === 200) return
    rejected++
    rejectedBeforeRevoke.add(1, { mode, status: String(res.status) })
  })
  const revoked = logoutAll(base, user)
  if (revoked.status !== 204)
    fail(`logout-all answered ${revoked.status}: ${String(revoked.body).slice(0, 200)}`)
  if (rejected > 0) fail(`${rejected} requests of the round before logout-all were not accepted`)
  const revokedAt = Date.now()
  /** @type {Record<string, number>} */
  const lastAccepted = {}
  while (Date.now() - revokedAt < windowMs) {
    round(base, user, (mode, res, sent) => {
      const expected = EXPECTED_AFTER_REVOKE[/** @type {keyof typeof EXPECTED_AFTER_REVOKE} */ (mode)]
      if (res.status === 200) {
        if (expected === 200) return
        acceptedAfterRevoke.add(1, { mode, replica: res.headers['X-Replica'] || 'unknown' })
        lastAccepted[mode] = Math.max(lastAccepted[mode] ?? 0, sent - revokedAt)
      } else if (res.status === 401 && expected === 401) {
        refusedAfterRevoke.add(1, { mode })
      } else {
        errorsAfterRevoke.add(1, { mode, status: String(res.status) })
      }
    })
  }
  for (const mode of EVENTUAL_REVOCATION) windowTrend.add(lastAccepted[mode] ?? 0, { mode })
}

/** @param {import('./lib/k6.js').SummaryData} data */
export function handleSummary(data) {
  const lines = [
    '',
    'mode | bound | refused (401) | accepted after logout-all | last accepted (ms after)',
    '---|---|---|---|---',
  ]
  for (const mode of REVOKING) {
    const eventual = bounds[mode] !== undefined
    lines.push(
      [
        mode,
        eventual ? `${bounds[mode]} ms` : '0 ms',
        cell(metricValue(data, `refused_after_revoke{mode:${mode}}`, 'count')),
        // Counted where the count is the claim (immediate modes), timed where the time is (eventual).
        eventual ? '–' : cell(metricValue(data, `accepted_after_revoke{mode:${mode}}`, 'count')),
        eventual ? cell(metricValue(data, `revocation_window_ms{mode:${mode}}`, 'max')) : '–',
      ].join(' | '),
    )
  }
  lines.push(
    '',
    `requests not accepted before logout-all: ${cell(metricValue(data, 'rejected_before_revoke', 'count'))}`,
    `errors after logout-all (neither 200 nor 401): ${cell(metricValue(data, 'errors_after_revoke', 'count'))}`,
  )
  return summaryOutputs('revocation', data, lines)
}
