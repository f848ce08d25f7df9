import {
  headersFor,
  LOGIN_PASSWORD,
  type MODES,
  pathFor,
  SERVICES,
  TOKEN_PROFILES,
  userEmail,
} from '../lib/scenarios.js'
import type { PooledRequest } from './load.ts'

export interface Login {
  accessToken: string
  /** seconds the access token lives, as the auth service said */
  expiresIn: number
  refreshToken: string
  sessionId: string
  user: { id: string }
}

export type TokenProfile = keyof typeof TOKEN_PROFILES
export type Mode = (typeof MODES)[number]

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })
    // A gateway with production login limits (compose): wait as told instead of failing the run.
    if (res.status === 429 && attempt < 5) {
      await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000))
      continue
    }
    return res
  }
}

export async function login(base: string, email: string): Promise<Login> {
  const body = { email, password: LOGIN_PASSWORD }
  await post(`${base}/auth/register`, body)
  const res = await post(`${base}/auth/login`, body)
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${await res.text()}`)
  return (await res.json()) as Login
}

export async function refresh(base: string, current: Login): Promise<Login> {
  const res = await post(`${base}/auth/refresh`, { refreshToken: current.refreshToken })
  if (res.status !== 200) throw new Error(`refresh: ${res.status}`)
  const pair = (await res.json()) as { accessToken: string; refreshToken: string; expiresIn: number }
  return { ...current, ...pair }
}

export async function logoutAll(base: string, l: Login): Promise<void> {
  const res = await fetch(`${base}/auth/logout-all`, {
    method: 'POST',
    headers: { authorization: `Bearer ${l.accessToken}` },
  })
  if (res.status !== 204) throw new Error(`logout-all: ${res.status}`)
}

/** An admin replaces a user's roles (PUT /auth/admin/users/{id}/roles). */
export async function setRoles(base: string, admin: Login, userId: string, roles: string[]): Promise<void> {
  const res = await fetch(`${base}/auth/admin/users/${userId}/roles`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.accessToken}` },
    body: JSON.stringify({ roles }),
  })
  if (res.status !== 200) throw new Error(`set roles: ${res.status} ${await res.text()}`)
}

/** The credentials of a token profile: `logins` sessions, each with `tokensPerLogin` access tokens. */
export async function credentialPool(
  base: string,
  profile: TokenProfile,
  run: string,
  maxLogins = Number.POSITIVE_INFINITY,
) {
  const { logins, tokensPerLogin } = TOKEN_PROFILES[profile]
  const count = Math.min(logins, maxLogins)
  const sessions: Login[] = []
  const tokens: Login[] = []
  const emails = Array.from({ length: count }, (_, i) => userEmail(`${run}-${profile}`, i))
  const batch = 8
  for (let i = 0; i < count; i += batch) {
    sessions.push(...(await Promise.all(emails.slice(i, i + batch).map((email) => login(base, email)))))
  }
  // Fewer logins than asked (a gateway with login limits): more refreshed tokens per login instead.
  const perLogin = Math.ceil((logins * tokensPerLogin) / count)
  await Promise.all(
    sessions.map(async (s) => {
      let current = s
      tokens.push(current)
      for (let t = 1; t < perLogin; t++) {
        current = await refresh(base, current)
        tokens.push(current)
      }
    }),
  )
  // The e-mails too: a peer that checks authlab's users (textbook) logs the same users in.
  return { sessions, tokens, emails }
}

/** Requests for one mode over a credential pool, alternating services. */
export function requestPool(mode: Mode, pool: { sessions: Login[]; tokens: Login[] }): PooledRequest[] {
  const creds = mode === 'session' || mode === 'session-cached' ? pool.sessions : pool.tokens
  return creds.map((c, i) => ({
    path: pathFor(SERVICES[i % SERVICES.length] as string, mode),
    headers: headersFor(mode, c),
  }))
}

/** Requests for one mode on one service only (the same-window design puts each side on its own). */
export function servicePool(
  mode: Mode,
  pool: { sessions: Login[]; tokens: Login[] },
  service: string,
): PooledRequest[] {
  const creds = mode === 'session' || mode === 'session-cached' ? pool.sessions : pool.tokens
  return creds.map((c) => ({ path: pathFor(service, mode), headers: headersFor(mode, c) }))
}
