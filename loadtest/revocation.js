// Revocation window per mode. Each iteration logs a user in, keeps requests going on every mode
// across all replicas, calls logout-all, and records for every request started after logout-all
// returned that still got a 200: the mode, the replica and how long after the revoke it was.
// Run: k6 run -e BASE_URL=http://127.0.0.1:8080 revocation.js   (TRIALS=20 WINDOW_MS=3000)
// The exit code carries the claim: thresholds fail the run if an immediate mode accepts a revoked
// credential at all, or an eventual one beyond its bound (set the bounds as the services are
// configured: SESSION_CACHE_TTL_MS, PUSHED_MAX_STALENESS_MS; compose's defaults are 2000).
import { fail } from 'k6'
import http from 'k6/http'
import { Counter, Trend } from 'k6/metrics'
import { baseUrl, login, logoutAll, metricValue, summaryOutputs } from './lib/k6.js'
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
const bounds = {
  'session-cached': Number(__ENV.SESSION_CACHE_TTL_MS || 2000),
  'jwt-pushed': Number(__ENV.PUSHED_MAX_STALENESS_MS || 2000),
}

// A 401 after logout-all is the expected answer, not a failed request.
http.setResponseCallback(http.expectedStatuses(200, 201, 204, 401))

export const options = {
  scenarios: {
    revocation: {
      executor: 'per-vu-iterations',
      vus: 1,
      iterations: Number(__ENV.TRIALS || 20),
      maxDuration: '30m',
    },
  },
  thresholds: {
    ...Object.fromEntries(
      IMMEDIATE_REVOCATION.map((mode) => [`accepted_after_revoke{mode:${mode}}`, ['count==0']]),
    ),
    ...Object.fromEntries(
      EVENTUAL_REVOCATION.map((mode) => [`revocation_window_ms{mode:${mode}}`, [`max<${bounds[mode]}`]]),
    ),
  },
}

const acceptedAfterRevoke = new Counter('accepted_after_revoke')
const windowTrend = new Trend('revocation_window_ms')

function round(base, user) {
  const requests = []
  for (const mode of MODES) {
    if (mode === 'none') continue
    for (let i = 0; i < perMode; i++) {
      const service = SERVICES[i % SERVICES.length]
      requests.push([
        'GET',
        `${base}${pathFor(service, mode)}`,
        null,
        { headers: headersFor(mode, user), tags: { mode } },
      ])
    }
  }
  return http.batch(requests).map((res, i) => ({ mode: requests[i][3].tags.mode, res }))
}

export default function () {
  const base = baseUrl()
  const user = login(base, `rev-${__VU}-${Date.now()}`, __ITER)
  round(base, user) // every replica has seen (and, for caching modes, cached) the credential
  const revoked = logoutAll(base, user)
  if (revoked.status !== 204)
    fail(`logout-all answered ${revoked.status}: ${String(revoked.body).slice(0, 200)}`)
  const revokedAt = Date.now()
  const lastAccepted = {}
  while (Date.now() - revokedAt < windowMs) {
    const sent = Date.now()
    for (const { mode, res } of round(base, user)) {
      if (res.status === 200 && EXPECTED_AFTER_REVOKE[mode] !== 200) {
        const replica = res.headers['X-Replica'] || 'unknown'
        acceptedAfterRevoke.add(1, { mode, replica })
        lastAccepted[mode] = sent - revokedAt
      }
    }
  }
  for (const mode of MODES) {
    if (EXPECTED_AFTER_REVOKE[mode] !== 200) windowTrend.add(lastAccepted[mode] || 0, { mode })
  }
}

export function handleSummary(data) {
  const lines = ['', 'mode | bound | accepted after logout-all | last accepted (ms after)', '---|---|---|---']
  for (const mode of MODES) {
    if (EXPECTED_AFTER_REVOKE[mode] === 200) continue
    const bound = bounds[mode] === undefined ? '0 ms' : `${bounds[mode]} ms`
    const accepted = metricValue(data, `accepted_after_revoke{mode:${mode}}`, 'count')
    const last = metricValue(data, `revocation_window_ms{mode:${mode}}`, 'max')
    lines.push(`${mode} | ${bound} | ${accepted} | ${last}`)
  }
  return summaryOutputs('revocation', data, lines)
}
