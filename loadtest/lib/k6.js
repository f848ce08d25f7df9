// Helpers for the k6 scripts only (they import k6 modules): register, log in, refresh.
import { check, fail, sleep } from 'k6'
import http from 'k6/http'
import { LOGIN_PASSWORD, userEmail } from './scenarios.js'

const JSON_HEADERS = { headers: { 'content-type': 'application/json' } }

export function baseUrl() {
  return (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '')
}

/**
 * Sends until the answer is one of `expected`: a 429 waits its Retry-After (auth and nginx limit
 * logins per address) and tries again, up to `attempts`; anything else fails loudly, so an error
 * body never becomes a credential.
 */
function until(send, expected, attempts = 10) {
  for (let attempt = 1; ; attempt++) {
    const res = send()
    if (expected.includes(res.status)) return res
    if (res.status === 429 && attempt < attempts) {
      sleep(Number(res.headers['Retry-After']) || 1)
      continue
    }
    fail(`${res.request.method} ${res.request.url} answered ${res.status}: ${String(res.body).slice(0, 200)}`)
  }
}

/**
 * Registers (or reuses) a user and logs in; returns { accessToken, sessionId, refreshToken, user }.
 * Many logins from one address meet the login limits: raise LOGIN_RATE_LIMIT_PER_IP and
 * GATEWAY_LOGIN_RATE/BURST for a large setup (see the README), or this waits them out.
 */
export function login(base, run, i) {
  const body = JSON.stringify({ email: userEmail(run, i), password: LOGIN_PASSWORD })
  until(() => http.post(`${base}/auth/register`, body, JSON_HEADERS), [201, 409])
  const res = until(() => http.post(`${base}/auth/login`, body, JSON_HEADERS), [200])
  check(res, { 'login 200': (r) => r.status === 200 })
  return res.json()
}

/** A fresh access token for the same login (cold profile): cheap, no password hashing. */
export function refresh(base, login) {
  const res = http.post(
    `${base}/auth/refresh`,
    JSON.stringify({ refreshToken: login.refreshToken }),
    JSON_HEADERS,
  )
  if (res.status !== 200) return login
  const pair = res.json()
  return { ...login, accessToken: pair.accessToken, refreshToken: pair.refreshToken }
}

export function logoutAll(base, login) {
  return http.post(`${base}/auth/logout-all`, null, {
    headers: { authorization: `Bearer ${login.accessToken}` },
  })
}

/**
 * Logs every user of `logins` out once (a script's teardown: leave nothing behind), with each user's
 * last credential, the freshest token: an early one may have expired during a long run.
 */
export function logoutEach(base, logins) {
  const done = new Set()
  for (const login of [...logins].reverse()) {
    const user = login.user?.id
    if (!user || done.has(user)) continue
    done.add(user)
    const res = logoutAll(base, login)
    check(res, { 'teardown logout-all 204': (r) => r.status === 204 })
  }
}

/**
 * handleSummary's answer: `lines` on stdout and, when SUMMARY_DIR is set (compose mounts a writable
 * loadtest/results there), the full summary as `<name>-summary.json`.
 */
export function summaryOutputs(name, data, lines) {
  const out = { stdout: `${lines.join('\n')}\n` }
  if (__ENV.SUMMARY_DIR) {
    out[`${__ENV.SUMMARY_DIR.replace(/\/$/, '')}/${name}-summary.json`] = JSON.stringify(data, null, 2)
  }
  return out
}

/** A metric's value from a k6 summary, or 0 when the (sub)metric saw no sample. */
export function metricValue(data, metric, stat) {
  return data.metrics[metric]?.values?.[stat] ?? 0
}
