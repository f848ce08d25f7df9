// Throughput of every mode through the gateway, one mode at a time, with checks (not timings) as
// thresholds. Run: k6 run -e BASE_URL=http://127.0.0.1:8080 [-e TOKEN_PROFILE=cold] throughput.js
// Options: MODES=jwt,session  VUS=50  DURATION=30s  TOKEN_PROFILE=warm|cold
import { check } from 'k6'
import http from 'k6/http'
import { baseUrl, login, logoutEach, metricValue, refresh, summaryOutputs } from './lib/k6.js'
import { durationSeconds, headersFor, MODES, pathFor, SERVICES, TOKEN_PROFILES } from './lib/scenarios.js'

const profileName = __ENV.TOKEN_PROFILE || 'warm'
const profile = TOKEN_PROFILES[profileName]
const modes = __ENV.MODES ? __ENV.MODES.split(',') : MODES
const durationS = durationSeconds(__ENV.DURATION || '30s')
const gapS = 5

export const options = {
  setupTimeout: '10m',
  scenarios: Object.fromEntries(
    modes.map((mode, i) => [
      mode,
      {
        executor: 'constant-vus',
        vus: Number(__ENV.VUS || 50),
        duration: `${durationS}s`,
        startTime: `${i * (durationS + gapS)}s`,
        env: { MODE: mode },
        tags: { mode },
      },
    ]),
  ),
  thresholds: {
    ...Object.fromEntries(modes.map((mode) => [`checks{mode:${mode}}`, ['rate>0.99']])),
    // Also puts each mode's request count and latency in the summary.
    ...Object.fromEntries(modes.map((mode) => [`http_reqs{mode:${mode}}`, ['count>0']])),
    ...Object.fromEntries(modes.map((mode) => [`http_req_duration{mode:${mode}}`, ['p(99)<10000']])),
  },
}

/** warm: one credential per login, reused. cold: several refreshed tokens per login, cycled. */
export function setup() {
  const base = baseUrl()
  const run = Date.now()
  const credentials = []
  for (let i = 0; i < profile.logins; i++) {
    let current = login(base, run, i)
    credentials.push(current)
    for (let t = 1; t < profile.tokensPerLogin; t++) {
      current = refresh(base, current)
      credentials.push(current)
    }
  }
  return { base, credentials }
}

export default function (data) {
  const mode = __ENV.MODE
  const n = data.credentials.length
  // warm: each virtual user keeps its credential; cold: walk the whole pool.
  const index = profileName === 'warm' ? __VU % n : (__VU * 7919 + __ITER) % n
  const service = SERVICES[__ITER % SERVICES.length]
  const res = http.get(`${data.base}${pathFor(service, mode)}`, {
    headers: headersFor(mode, data.credentials[index]),
    tags: { mode },
  })
  check(res, { 'status 200': (r) => r.status === 200 }, { mode })
}

export function teardown(data) {
  logoutEach(data.base, data.credentials)
}

export function handleSummary(data) {
  const lines = ['', 'mode | requests | checks passed | p50 ms | p95 ms', '---|---|---|---|---']
  for (const mode of modes) {
    const requests = metricValue(data, `http_reqs{mode:${mode}}`, 'count')
    const passed = metricValue(data, `checks{mode:${mode}}`, 'rate')
    const p50 = metricValue(data, `http_req_duration{mode:${mode}}`, 'med')
    const p95 = metricValue(data, `http_req_duration{mode:${mode}}`, 'p(95)')
    lines.push(
      `${mode} | ${requests} | ${(passed * 100).toFixed(2)} % | ${p50.toFixed(1)} | ${p95.toFixed(1)}`,
    )
  }
  return summaryOutputs(`throughput-${profileName}`, data, lines)
}
