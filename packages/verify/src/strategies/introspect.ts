import { basicAuthorization, presentedCredential } from '@authlab/contract'
import { Pool } from 'undici'
import { credentialToken, UnauthorizedError, VerifierUnavailableError } from '../errors.ts'
import { modeOption } from '../options.ts'
import type { Strategy, StrategyContext } from '../types.ts'

/**
 * Asks auth (RFC 7662) on every request: exact, and as available as auth is. A dedicated keep-alive
 * connection pool (undici) rather than fetch(): the per-request cost of the extra hop is the point
 * of this mode's measurement, and fetch's per-call overhead would inflate it.
 */
export function introspectStrategy(ctx: StrategyContext): Strategy {
  const authUrl = modeOption(ctx.options, 'authUrl')
  const introspectTimeoutMs = modeOption(ctx.options, 'introspectTimeoutMs')
  const introspectionClient = modeOption(ctx.options, 'introspectionClient')
  const headers = {
    authorization: basicAuthorization(introspectionClient.id, introspectionClient.secret),
    'content-type': 'application/x-www-form-urlencoded',
  }
  const pool = new Pool(authUrl, {
    connections: 32,
    keepAliveTimeout: 30_000,
    connectTimeout: introspectTimeoutMs,
  })
  return {
    mode: 'introspect',
    challenge: 'Bearer',
    ready: () => true,
    async authenticate(request) {
      // Bearer, else the access cookie, else the session cookie: auth introspects either kind.
      const cookie = ctx.accessCookie(request) ?? ctx.sessionCookie(request)
      const token = credentialToken(presentedCredential(request.headers.authorization, cookie))
      let statusCode: number
      let body: { active: boolean; sub?: string; sid?: string; roles?: unknown }
      try {
        const res = await pool.request({
          method: 'POST',
          path: '/auth/introspect',
          headers,
          body: new URLSearchParams({ token }).toString(),
          headersTimeout: introspectTimeoutMs,
          bodyTimeout: introspectTimeoutMs,
        })
        statusCode = res.statusCode
        body = (await res.body.json()) as typeof body
      } catch (err) {
        throw new VerifierUnavailableError('auth unreachable', { cause: err })
      }
      if (statusCode === 400) throw new UnauthorizedError('invalid token')
      // 401 here is auth refusing this service's client credential: a deployment fault, not the user's.
      if (statusCode !== 200) throw new VerifierUnavailableError(`auth answered ${statusCode}`)
      if (!body.active || !body.sub) throw new UnauthorizedError('token inactive')
      // Roles as auth answers them; anything but a list of strings grants nothing.
      const roles = Array.isArray(body.roles)
        ? body.roles.filter((r): r is string => typeof r === 'string')
        : []
      return { userId: body.sub, roles, ...(body.sid ? { loginId: body.sid } : {}) }
    },
    close: () => pool.close(),
  }
}
