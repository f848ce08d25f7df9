import { type AccessClaims, assertCsrfProof, cookieNames, presentedCredential } from '@authlab/contract'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuthConfig } from '../config.ts'
import { UnauthenticatedError } from '../errors.ts'
import type { LoginRef } from '../plugins/app/revocations.ts'

/** Who is asking: the live login behind the request's credential, and where that credential came from. */
export interface Caller extends LoginRef {
  source: 'bearer' | 'cookie'
}

/**
 * The RFC 6750 §3 challenge of a 401 (RFC 9110 §15.5.2 requires one): `error="invalid_token"` when a
 * credential was presented and refused (invalid, expired, revoked, unknown), the realm alone when
 * none was (§3.1: no error code for a request that carried no authentication).
 */
export function bearerChallenge(tokenRefused: boolean): string {
  return tokenRefused ? 'Bearer realm="authlab", error="invalid_token"' : 'Bearer realm="authlab"'
}

/**
 * The caller of an account route (GET /auth/me, POST /auth/password): a Bearer access token, else
 * the session cookie, else the access-token cookie, by @authlab/contract's credential rule; a cookie
 * caller of a state-changing method needs the CSRF proof (the contract's rule too). A refresh token
 * is no caller: it is for /auth/refresh (and logout) only. Revoked, expired or unknown: 401, with
 * Postgres deciding whether the login is live. A live caller's login is recorded as used. Every
 * 401 carries `WWW-Authenticate` (`bearerChallenge`), so a client can tell a refused token from
 * another refusal (a wrong current password is a 403, for one).
 */
export function callerOf(fastify: FastifyInstance, config: AuthConfig) {
  const names = cookieNames(config.COOKIE_SECURE)
  const verifyAccess = (token: string): AccessClaims => {
    try {
      return fastify.keys.verify(token)
    } catch {
      throw new UnauthenticatedError('Access token is invalid or expired')
    }
  }

  const presented = async (request: FastifyRequest): Promise<Caller> => {
    const sid = request.cookies[names.session]
    const access = request.cookies[names.access]
    const credential = presentedCredential(request.headers.authorization, sid || access)
    if (credential.source === 'malformed') {
      throw new UnauthenticatedError('Authorization must be "Bearer <token>"')
    }
    if (credential.source === 'none') throw new UnauthenticatedError('No credential')
    if (credential.source === 'bearer') {
      const claims = verifyAccess(credential.token)
      return { loginId: claims.sid, userId: claims.sub, source: 'bearer' }
    }
    assertCsrfProof(request.method, credential.source, request.headers)
    if (sid) {
      const login = await fastify.credentials.sessionLogin(sid)
      if (login) return { loginId: login.loginId, userId: login.userId, source: 'cookie' }
    }
    if (access) {
      const claims = verifyAccess(access)
      return { loginId: claims.sid, userId: claims.sub, source: 'cookie' }
    }
    throw new UnauthenticatedError('No valid credential')
  }

  const live = async (request: FastifyRequest): Promise<Caller> => {
    const caller = await presented(request)
    if (!(await fastify.revocations.isLive(caller.loginId))) {
      throw new UnauthenticatedError('The credential has been revoked')
    }
    return caller
  }

  return async (request: FastifyRequest, reply: FastifyReply): Promise<Caller> => {
    let caller: Caller
    try {
      caller = await live(request)
    } catch (err) {
      if (err instanceof UnauthenticatedError) {
        const { source } = presentedCredential(
          request.headers.authorization,
          request.cookies[names.session] || request.cookies[names.access],
        )
        reply.header('www-authenticate', bearerChallenge(source === 'bearer' || source === 'cookie'))
      }
      throw err
    }
    // Postgres answered just now; last_used_at moves at most once a minute.
    await fastify.credentials.used(caller.loginId)
    return caller
  }
}
