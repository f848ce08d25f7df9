import type { FastifyReply, FastifyRequest } from 'fastify'
import { RateLimitedError } from '../../errors.ts'
import { clientKey } from './login-throttle.ts'

type Limiter = (
  request: FastifyRequest,
) => Promise<{ isAllowed: true } | { isAllowed: false; isExceeded: boolean; ttlInSeconds: number }>

/**
 * A preHandler that refuses a request past `limiter`'s budget (one made by @fastify/rate-limit's
 * `createRateLimit`) with 429 and Retry-After, as every limited route of auth answers.
 */
export function refuseWhenExceeded(limiter: Limiter) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const result = await limiter(request)
    if (!result.isAllowed && result.isExceeded) {
      reply.header('retry-after', result.ttlInSeconds)
      throw new RateLimitedError(result.ttlInSeconds)
    }
  }
}

/**
 * The key of each per-route budget, under the rate-limit plugin's Redis namespace (http.ts): one
 * budget per route and client address (IPv6 by its /64, as clientKey groups it), or per
 * introspection client.
 */
export const limitKeys = {
  login: (request: FastifyRequest) => `login-ip:${clientKey(request.ip)}`,
  register: (request: FastifyRequest) => `register-ip:${clientKey(request.ip)}`,
  password: (request: FastifyRequest) => `password-ip:${clientKey(request.ip)}`,
  revoke: (request: FastifyRequest) => `revoke-ip:${clientKey(request.ip)}`,
  introspectionClient: (request: FastifyRequest) => `introspect-client:${request.introspectionClient}`,
} as const
