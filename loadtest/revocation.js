// Revocation window per mode. Each iteration logs a user in, keeps requests going on every mode
// across all replicas, calls logout-all, and records for every request started after logout-all
// returned that still got a 200: the mode, the replica and how long after the revoke it was.
// Run: k6 run -e BASE_URL=http://127.0.0.1:8080 revocation.js   (TRIALS=20 WINDOW_MS=3000)
import http from 'k6/http'
import { Counter, Trend } from 'k6/metrics'
import { baseUrl, login, logoutAll } from './lib/k6.js'
import { EXPECTED_AFTER_REVOKE, headersFor, MODES, pathFor, SERVICES } from './lib/scenarios.js'

const windowMs = Number(__ENV.WINDOW_MS || 3000)
const perMode = Number(__ENV.REQUESTS_PER_MODE || 6)

export const options = {
  scenarios: {
    revocation: {
      executor: 'per-vu-iterations',
      vus: 1,
      iterations: Number(__ENV.TRIALS || 20),
      maxDuration: '30m',
    },
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
  logoutAll(base, user)
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
