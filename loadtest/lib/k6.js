// Helpers for the k6 scripts only (they import k6 modules): register, log in, refresh.
import { check } from 'k6'
import http from 'k6/http'
import { LOGIN_PASSWORD, userEmail } from './scenarios.js'

const JSON_HEADERS = { headers: { 'content-type': 'application/json' } }

export function baseUrl() {
  return (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '')
}

/** Registers (or reuses) a user and logs in; returns { accessToken, sessionId, refreshToken, user }. */
export function login(base, run, i) {
  const body = JSON.stringify({ email: userEmail(run, i), password: LOGIN_PASSWORD })
  http.post(`${base}/auth/register`, body, JSON_HEADERS)
  const res = http.post(`${base}/auth/login`, body, JSON_HEADERS)
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
