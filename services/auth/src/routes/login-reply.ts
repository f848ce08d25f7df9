import { cookieNames, REFRESH_COOKIE_PATH } from '@authlab/contract'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuthConfig } from '../config.ts'
import type { IssuedLogin } from '../plugins/app/credentials.ts'
import type { User } from '../plugins/app/users.ts'

/** auth's cookie attributes (the refresh cookie narrows the path). */
export function cookieOptions(config: AuthConfig) {
  const base = {
    httpOnly: true,
    secure: config.COOKIE_SECURE,
    sameSite: config.COOKIE_SAMESITE,
    path: '/',
  } as const
  return { base, refresh: { ...base, path: REFRESH_COOKIE_PATH, maxAge: config.REFRESH_TOKEN_TTL_S } }
}

/**
 * Hands a freshly issued login to its client, as POST /auth/login does and POST /auth/password does
 * with the login it renews: the three cookies, and the LoginResponse body. A browser (every browser
 * sends Origin with a POST) keeps the long-lived credentials in their HttpOnly cookies only: a page
 * script that sees this answer cannot read them; an API client gets them in the body.
 */
export function loginReply(config: AuthConfig) {
  const names = cookieNames(config.COOKIE_SECURE)
  const cookies = cookieOptions(config)
  return (
    request: FastifyRequest,
    reply: FastifyReply,
    issued: IssuedLogin,
    user: User,
    rememberMe: boolean | undefined,
  ) => {
    reply
      .setCookie(names.session, issued.sessionId, {
        ...cookies.base,
        ...(rememberMe ? { maxAge: config.SESSION_ABSOLUTE_TTL_S } : {}),
      })
      .setCookie(names.access, issued.accessToken, { ...cookies.base, maxAge: issued.expiresIn })
      .setCookie(names.refresh, issued.refreshToken, cookies.refresh)
    const browser = request.headers.origin !== undefined
    return {
      accessToken: issued.accessToken,
      tokenType: 'Bearer' as const,
      expiresIn: issued.expiresIn,
      ...(browser ? {} : { refreshToken: issued.refreshToken, sessionId: issued.sessionId }),
      user,
    }
  }
}
