// Steady traffic on every mode while something breaks (the bench driver, or you, stops Redis,
// kills a replica, stops auth). Counts every status per mode in `responses{mode,status}`.
// Run: k6 run -e BASE_URL=http://127.0.0.1:8080 -e DURATION=60s faults.js
import http from 'k6/http'
import { Counter } from 'k6/metrics'
import { baseUrl, login, logoutEach } from './lib/k6.js'
import { headersFor, MODES, pathFor, SERVICES } from './lib/scenarios.js'

export const options = {
  scenarios: {
    steady: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.RATE || 200),
      timeUnit: '1s',
      duration: __ENV.DURATION || '60s',
      preAllocatedVUs: 50,
    },
  },
}

const responses = new Counter('responses')

export function setup() {
  const base = baseUrl()
  return { base, user: login(base, `faults-${Date.now()}`, 0) }
}

export default function (data) {
  const mode = MODES[__ITER % MODES.length]
  const service = SERVICES[__ITER % SERVICES.length]
  const res = http.get(`${data.base}${pathFor(service, mode)}`, {
    headers: headersFor(mode, data.user),
    tags: { mode },
  })
  responses.add(1, { mode, status: String(res.status) })
}

export function teardown(data) {
  logoutEach(data.base, [data.user])
}
