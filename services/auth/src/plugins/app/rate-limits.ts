import type { FastifyReply, FastifyRequest } from 'fastify'
import { RateLimitedError } from '../../errors.ts'

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
