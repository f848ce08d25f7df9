// Helpers for the k6 scripts only (they import k6 modules): log in, refresh, log out, the request
// parameters every script shares, and the end-of-test summary.

// @ts-expect-error k6 fetches jslib modules by URL when the test starts; tsc cannot, and the one
// function used is typed where it is bound below.
import { textSummary as jslibTextSummary } from 'https://jslib.k6.io/k6-summary/0.1.0/index.js'
import { check, fail, sleep } from 'k6'
import http from 'k6/http'
import { Counter } from 'k6/metrics'
import { CSRF_HEADER, headersFor, LOGIN_PASSWORD, userEmail } from './scenarios.js'

/**
 * k6's own end-of-test text summary, which a script's handleSummary replaces unless it returns it.
 * @type {(data: SummaryData, options?: { indent?: string, enableColors?: boolean }) => string}
 */
const textSummary = jslibTextSummary

/**
 * A logged-in user as the scripts keep it: the session id (session modes), the access token
 * (bearer modes) and the refresh token that renews it.
 * @typedef {{ userId: string, sessionId: string, accessToken: string, refreshToken: string }} Login
 */

/**
 * The parts of k6's end-of-test summary data the scripts read.
 * @typedef {{
 *   metrics: Record<string, { type?: string, values: Record<string, number | undefined> } | undefined>,
 *   options?: { noColor?: boolean },
 *   state?: { isStdOutTTY?: boolean },
 * }} SummaryData
 */

/**
 * k6's console (its log, on stderr), which @types/k6 does not declare.
 * @type {{ error: (...args: unknown[]) => void, warn: (...args: unknown[]) => void }}
 */
export const log = Reflect.get(globalThis, 'console')

/** The timeout of a request under load; a slower answer counts as failed (status 0). */
export const REQUEST_TIMEOUT = __ENV.REQUEST_TIMEOUT || '5s'
/** Register, login and refresh hash or write under load: a longer timeout than REQUEST_TIMEOUT. */
const AUTH_TIMEOUT = __ENV.AUTH_TIMEOUT || '30s'

/** Refresh-token requests that did not return a fresh pair: each is logged and fails a threshold. */
const refreshFailures = new Counter('refresh_failures')

export function baseUrl() {
  return (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '')
}

/**
 * Parameters of a request to /auth: its body is read (the scripts discard every other body), and
 * it has a cookie jar of its own, so the cookies auth sets (a session, an access token) never ride
 * along with the load's requests, which carry exactly the credential each mode is given.
 * @param {Record<string, string>} [headers]
 * @returns {import('k6/http').RefinedParams<'text'>}
 */
function authParams(headers = { 'content-type': 'application/json' }) {
  return { headers, responseType: 'text', timeout: AUTH_TIMEOUT, jar: new http.CookieJar() }
}

/** @param {import('k6/http').RefinedResponse<'text'>} res */
function described(res) {
  return `${res.request.method} ${res.request.url} answered ${res.status}: ${String(res.body).slice(0, 200)}`
}

/**
 * Sends until the answer is one of `expected`: a 429 waits its Retry-After (auth and nginx limit
 * logins per address) and tries again, up to `attempts`; anything else fails loudly, so an error
 * body never becomes a credential.
 * @param {() => import('k6/http').RefinedResponse<'text'>} send
 * @param {number[]} expected
 */
function until(send, expected, attempts = 10) {
  for (let attempt = 1; ; attempt++) {
    const res = send()
    if (expected.includes(res.status)) return res
    if (res.status === 429 && attempt < attempts) {
      sleep(Number(res.headers['Retry-After']) || 1)
      continue
    }
    return fail(described(res))
  }
}

/**
 * The JSON object `res` answered; fails on anything else.
 * @param {import('k6/http').RefinedResponse<'text'>} res
 * @returns {object}
 */
function jsonOf(res) {
  /** @type {unknown} */
  let body
  try {
    body = JSON.parse(res.body)
  } catch {
    body = undefined
  }
  if (typeof body !== 'object' || body === null) return fail(`${described(res)} (not a JSON object)`)
  return body
}

/**
 * The string fields `names` of `body`; fails when one is missing (a browser-style answer, say,
 * keeps the refresh token and the session id in cookies).
 * @template {string} K
 * @param {object} body
 * @param {K[]} names
 * @param {import('k6/http').RefinedResponse<'text'>} res
 * @returns {Record<K, string>}
 */
function fields(body, names, res) {
  const out = /** @type {Record<K, string>} */ ({})
  for (const name of names) {
    const value = Reflect.get(body, name)
    if (typeof value !== 'string') return fail(`${described(res)} (no ${name})`)
    out[name] = value
  }
  return out
}

/**
 * Registers (or reuses) a user and logs in. Many logins from one address meet the login limits:
 * raise LOGIN_RATE_LIMIT_PER_IP and GATEWAY_LOGIN_RATE/BURST for a large setup (see the README),
 * or this waits them out.
 * @param {string} base
 * @param {string | number} run
 * @param {number} i
 * @returns {Login}
 */
export function login(base, run, i) {
  const body = JSON.stringify({ email: userEmail(run, i), password: LOGIN_PASSWORD })
  until(() => http.post(`${base}/auth/register`, body, authParams()), [201, 409])
  const res = until(() => http.post(`${base}/auth/login`, body, authParams()), [200])
  const answer = jsonOf(res)
  const user = Reflect.get(answer, 'user')
  const { id } = fields(typeof user === 'object' && user !== null ? user : {}, ['id'], res)
  return { userId: id, ...fields(answer, ['accessToken', 'refreshToken', 'sessionId'], res) }
}

/**
 * A fresh access token and the refresh token that replaces `refreshToken` (rotation: the old one is
 * spent), or undefined when auth did not give one; that is logged and counted in
 * `refresh_failures`, which the scripts' thresholds hold at zero.
 * @param {string} base
 * @param {string} refreshToken
 * @returns {{ accessToken: string, refreshToken: string } | undefined}
 */
export function tryRefresh(base, refreshToken) {
  const res = http.post(`${base}/auth/refresh`, JSON.stringify({ refreshToken }), authParams())
  if (res.status === 200) {
    try {
      return fields(jsonOf(res), ['accessToken', 'refreshToken'], res)
    } catch (err) {
      log.error(String(err))
    }
  } else log.error(described(res))
  refreshFailures.add(1, { status: String(res.status) })
  return undefined
}

/**
 * As tryRefresh, but a refused refresh fails the iteration (or the setup) at once.
 * @param {string} base
 * @param {string} refreshToken
 */
export function refresh(base, refreshToken) {
  return tryRefresh(base, refreshToken) ?? fail('POST /auth/refresh gave no fresh token pair (see the log)')
}

/**
 * logout-all with a live access token (revocation.js, right after logging in).
 * @param {string} base
 * @param {Login} login
 */
export function logoutAll(base, login) {
  return http.post(
    `${base}/auth/logout-all`,
    null,
    authParams({ authorization: `Bearer ${login.accessToken}` }),
  )
}

/**
 * Logs every user of `logins` out (a script's teardown: leave nothing behind). Not with an access
 * token, which may have expired during the run, but with the login's refresh token; where a virtual
 * user rotated that during the run (teardown sees only what setup returned), with the session
 * cookie, which outlives the access token (and a refresh token's rotation).
 * @param {string} base
 * @param {{ userId: string, sessionId: string, refreshToken: string }[]} logins
 */
export function logoutEach(base, logins) {
  const done = new Set()
  for (const login of logins) {
    if (done.has(login.userId)) continue
    done.add(login.userId)
    let res = http.post(`${base}/auth/logout-all`, JSON.stringify({ refreshToken: login.refreshToken }), {
      ...authParams(),
      responseCallback: http.expectedStatuses(204, 401),
    })
    if (res.status === 401)
      res = http.post(
        `${base}/auth/logout-all`,
        null,
        authParams({ ...headersFor('session', login), [CSRF_HEADER]: '1' }),
      )
    check(res, { 'teardown logout-all 204': (r) => r.status === 204 })
    if (res.status !== 204) log.error(`teardown: ${described(res)}`)
  }
}

/**
 * handleSummary's answer: k6's own text summary and `lines` on stdout and, when SUMMARY_DIR is set
 * (compose points it at the k6-results volume), the full summary as `<name>-summary.json`.
 * @param {string} name
 * @param {SummaryData} data
 * @param {string[]} lines
 * @returns {Record<string, string>}
 */
export function summaryOutputs(name, data, lines) {
  const enableColors = !data.options?.noColor && data.state?.isStdOutTTY === true
  /** @type {Record<string, string>} */
  const out = { stdout: `${textSummary(data, { indent: ' ', enableColors })}\n${lines.join('\n')}\n` }
  if (__ENV.SUMMARY_DIR) {
    out[`${__ENV.SUMMARY_DIR.replace(/\/$/, '')}/${name}-summary.json`] = JSON.stringify(data, null, 2)
  }
  return out
}

/**
 * A metric's value from a k6 summary, or undefined when the run has none (not measured, not 0).
 * @param {SummaryData} data
 * @param {string} metric
 * @param {string} stat
 * @returns {number | undefined}
 */
export function metricValue(data, metric, stat) {
  const value = data.metrics[metric]?.values[stat]
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

/**
 * A table cell: `value` formatted, or – where nothing was measured.
 * @param {number | undefined} value
 * @param {(v: number) => string} [format]
 */
export function cell(value, format = String) {
  return value === undefined ? '–' : format(value)
}
