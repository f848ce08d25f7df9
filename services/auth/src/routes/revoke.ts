import type { AccessClaims } from '@authlab/contract'
import formbody from '@fastify/formbody'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import type { AuthConfig } from '../config.ts'
import { limitKeys, refuseWhenExceeded } from '../plugins/app/rate-limits.ts'
import type { LoginRef } from '../plugins/app/revocations.ts'
import { OAuthError, RevokeBody } from '../schemas/auth.ts'

/** An RFC 6749 §5.2 error code for an answer's status. */
function oauthError(statusCode: number): string {
  if (statusCode === 503 || statusCode === 429) return 'temporarily_unavailable'
  if (statusCode >= 500) return 'server_error'
  return 'invalid_request'
}

/**
 * RFC 7009 token revocation. Who may call it: whoever holds the token. authlab's clients are its
 * own first-party, public clients (RFC 6749 §2.1) with no secret to authenticate with, so the token
 * itself is the proof of possession, as RFC 7009 §2.1 allows for public clients and §5 argues: who
 * could revoke a token by guessing it could do worse by using it. Nothing else authorises a
 * revocation: cookies are not read, so a cross-site form cannot revoke what the browser holds, and
 * no CSRF proof is needed.
 *
 * What is revoked follows logout: an access token or a refresh token revokes its login (session,
 * every JWT by login id and the presented `jti`, refresh family); a session id its login too. A
 * refresh token already spent still revokes its login, unlike at logout: it is treated as reuse (a
 * thief may have rotated it first and hold the successor). Session ids and refresh tokens are looked
 * up in Postgres, so a session whose Redis record idled out is still found. An unknown, invalid,
 * expired access token or already-revoked token is answered 200 as well (§2.2): nothing is said
 * about it. A store that cannot answer is a 503 with Retry-After (§2.2.1): the client must
 * not believe a revocation that did not happen. Rate-limited per client address, generously
 * (REVOKE_RATE_LIMIT_PER_IP per LOGIN_RATE_LIMIT_WINDOW_S): the answer is the same for any token, so
 * there is nothing to guess at, but each request is unauthenticated and costs Postgres (and Redis)
 * work; past the limit, 429 `temporarily_unavailable` with Retry-After.
 */
export default async function revokeRoutes(fastify: FastifyInstance, opts: { config: AuthConfig }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  await app.register(formbody, { bodyLimit: opts.config.BODY_LIMIT_BYTES })
  const addressLimit = refuseWhenExceeded(
    fastify.createRateLimit({
      max: opts.config.REVOKE_RATE_LIMIT_PER_IP,
      timeWindow: opts.config.LOGIN_RATE_LIMIT_WINDOW_S * 1000,
      keyGenerator: limitKeys.revoke,
    }),
  )

  // Errors as RFC 7009 §2.2.1 answers them (RFC 6749 §5.2): the shared error handler has logged,
  // counted and shaped the error (Retry-After on a 503 included); here it is reworded.
  app.addHook('preSerialization', async (_request, reply, payload) => {
    if (reply.statusCode < 400 || typeof payload !== 'object' || payload === null) return payload
    const body = payload as { code?: string; message?: string; requestId?: string }
    if (body.code === undefined || body.requestId === undefined) return payload
    return {
      error: oauthError(reply.statusCode),
      error_description: body.message ?? '',
      code: body.code,
      requestId: body.requestId,
    }
  })

  /** The login a token names (verified, unrevoked), or undefined: it revokes nothing. */
  const loginOf = async (
    token: string,
    hint: string | undefined,
  ): Promise<(LoginRef & { jti?: { jti: string; exp: number } }) | undefined> => {
    // A JWT has dots; session ids and refresh tokens (base64url) have none. The shape decides; the
    // hint only orders the two lookups a dotless token needs (§2.1: a miss extends the search).
    if (token.includes('.')) {
      let claims: AccessClaims
      try {
        claims = fastify.keys.verify(token)
      } catch {
        return undefined
      }
      if (!(await fastify.revocations.isUnrevoked(claims.sid))) return undefined
      return { loginId: claims.sid, userId: claims.sub, jti: { jti: claims.jti, exp: claims.exp } }
    }
    // Both in Postgres, the source of truth: a session id whose Redis record idled out still names
    // its login, and a refresh token spent by someone else (reuse) names it too.
    const bySession = () => fastify.credentials.revocableSessionLogin(token)
    const byRefresh = () => fastify.credentials.revocableRefreshTokenLogin(token)
    const [first, second] = hint === 'refresh_token' ? [byRefresh, bySession] : [bySession, byRefresh]
    const found = (await first()) ?? (await second())
    return found && { loginId: found.loginId, userId: found.userId }
  }

  app.post(
    '/auth/revoke',
    {
      // Before the body is parsed: a malformed request counts as much as any other.
      onRequest: addressLimit,
      schema: {
        tags: ['auth'],
        summary: 'RFC 7009 token revocation; the token is its own proof of possession',
        security: [],
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        body: RevokeBody,
        response: {
          200: Type.Null({ description: 'revoked, or nothing to revoke (RFC 7009 §2.2): an empty body' }),
          400: OAuthError,
          429: OAuthError,
          503: OAuthError,
        },
      },
    },
    async (request, reply) => {
      const login = await loginOf(request.body.token, request.body.token_type_hint)
      if (login) {
        await fastify.revocations.logout(login, login.jti, 'revoke')
        fastify.authMetrics.revocations.inc({ reason: 'revoke' })
      }
      // No payload at all (not JSON `null`): an empty body, which the client ignores anyway.
      return reply.code(200).send(undefined as never)
    },
  )
}
