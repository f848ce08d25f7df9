import { randomUUID } from 'node:crypto'
import {
  assertCsrfProof,
  cookieNames,
  csrfSafeMethod,
  type PresentedCredential,
  presentedCredential,
  SESSION_ID_PATTERN,
} from '@authlab/contract'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuthConfig } from '../config.ts'
import { UnauthenticatedError } from '../errors.ts'
import { ErrorResponse } from '../schemas/auth.ts'
import { bearerChallenge } from './caller.ts'

/** The header the exchange answers with: `Bearer <internal token>`, for nginx to pass on as is. */
export const PHANTOM_AUTHORIZATION_HEADER = 'x-phantom-authorization'
/** The method of the client's request, which the gateway's GET subrequest would otherwise hide. */
export const ORIGINAL_METHOD_HEADER = 'x-original-method'

/**
 * nginx's X-Accel-Expires for an exchange checked at `checkedAt`: an absolute second (`@…`), the
 * last one the entry may be served in. nginx serves an entry while its clock, in whole seconds,
 * is not past that second, so it stops by the start of the next one: `@(floor(deadline s) - 1)`
 * ends by `floor(deadline s)`, never after the deadline. `0` is nginx's "do not cache", for a
 * TTL of 0 and for a deadline too close to be worth an entry.
 */
export function accelExpires(checkedAt: number, ttlMs: number): string {
  if (ttlMs === 0) return '0'
  const lastSecond = Math.floor((checkedAt + ttlMs) / 1000) - 1
  return lastSecond * 1000 > Date.now() - 1000 ? `@${lastSecond}` : '0'
}

/**
 * The session a phantom request presents, by @authlab/contract's credential rule: the session id
 * as a Bearer token, else the session cookie. Anything else (an access token as Bearer included)
 * is refused: the exchange trades sessions only.
 */
function presentedSession(request: FastifyRequest, credential: PresentedCredential): string {
  if (credential.source === 'malformed')
    throw new UnauthenticatedError('Authorization must be "Bearer <session id>"')
  if (credential.source === 'none') throw new UnauthenticatedError('No session')
  // The gateway's subrequest is a GET: the client's method comes in a header of its own, and a
  // cookie-carried state-changing request needs the CSRF proof as in every other mode.
  const method = request.headers[ORIGINAL_METHOD_HEADER]
  if (typeof method === 'string' && !csrfSafeMethod(method)) {
    assertCsrfProof(method, credential.source, request.headers)
  }
  if (!SESSION_ID_PATTERN.test(credential.token)) throw new UnauthenticatedError('Not a session id')
  return credential.token
}

/**
 * GET /auth/exchange, the phantom-token exchange behind nginx's `auth_request`: the client's session
 * checked as the `session` mode checks it (one GETEX that slides the idle timeout; 503 while Redis
 * or its revocation copies cannot answer), traded for a token of seconds with the internal audience.
 * The gateway never routes it from outside (404) and caches its answer per credential for
 * PHANTOM_CACHE_TTL_MS, told by X-Accel-Expires; a 401 or a 503 is never cached.
 */
export default async function exchangeRoutes(fastify: FastifyInstance, opts: { config: AuthConfig }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { config } = opts
  const names = cookieNames(config.COOKIE_SECURE)
  const idleTtlMs = config.SESSION_IDLE_TTL_S * 1000

  const challenge = (request: FastifyRequest, reply: FastifyReply) => {
    const { source } = presentedCredential(request.headers.authorization, undefined)
    reply.header(
      'www-authenticate',
      source === 'bearer' || source === 'malformed' ? bearerChallenge(true) : 'Cookie realm="authlab"',
    )
  }

  app.get(
    '/auth/exchange',
    {
      schema: {
        tags: ['auth'],
        security: [{ bearer: [] }, { sessionCookie: [] }],
        response: { 204: { type: 'null' }, 401: ErrorResponse, 403: ErrorResponse, 503: ErrorResponse },
      },
      onSend: async (_request, reply) => {
        reply.header('cache-control', 'no-store')
      },
    },
    async (request, reply) => {
      let sessionId: string
      try {
        sessionId = presentedSession(
          request,
          presentedCredential(request.headers.authorization, request.cookies[names.session]),
        )
      } catch (err) {
        if (err instanceof UnauthenticatedError) challenge(request, reply)
        throw err
      }
      // Taken before the read: the entry's deadline then never outlives a revocation the read missed.
      const checkedAt = Date.now()
      const record = await fastify.revocationReader.readSession(sessionId, idleTtlMs)
      if (!record) {
        challenge(request, reply)
        throw new UnauthenticatedError('Invalid or expired session')
      }
      const token = fastify.keys.signInternal({
        sub: record.userId,
        sid: record.loginId,
        roles: record.roles,
        jti: randomUUID(),
        iat: Math.floor(checkedAt / 1000),
      })
      return reply
        .code(204)
        .header(PHANTOM_AUTHORIZATION_HEADER, `Bearer ${token}`)
        .header('x-accel-expires', accelExpires(checkedAt, config.PHANTOM_CACHE_TTL_MS))
        .send(null)
    },
  )
}
