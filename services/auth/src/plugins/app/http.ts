import { asStoreError } from '@authlab/clients'
import cookie from '@fastify/cookie'
import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import underPressure from '@fastify/under-pressure'
import type { FastifyError, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** Cross-cutting HTTP behaviour: cookies, rate limiting, overload shedding, OpenAPI, error shape. */
async function httpPlugin(fastify: FastifyInstance) {
  await fastify.register(cookie)
  await fastify.register(rateLimit, {
    global: false,
    redis: fastify.redis,
    nameSpace: 'authlab:rl:',
    // Fail closed: without Redis the limiter cannot count, and login must not go unlimited.
    skipOnError: false,
  })
  await fastify.register(underPressure, { maxEventLoopDelay: 1000, retryAfter: 5 })
  await fastify.register(swagger, {
    openapi: {
      info: { title: 'authlab auth service', version: '0.1.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  })

  fastify.setErrorHandler((rawError, request, reply) => {
    const error = asStoreError(rawError) as FastifyError
    const statusCode = error.validation ? 400 : (error.statusCode ?? 500)
    if (statusCode >= 500) request.log.error({ err: rawError }, 'request failed')
    else request.log.info({ code: error.code, statusCode }, error.message)
    reply.code(statusCode).send({
      statusCode,
      code: error.code ?? (error.validation ? 'FST_ERR_VALIDATION' : undefined),
      error: statusCode >= 500 && statusCode !== 503 ? 'Internal Server Error' : (error.name ?? 'Error'),
      // Never leak internals of an unexpected failure.
      message: statusCode === 500 ? 'Internal Server Error' : error.message,
    })
  })
}

export default fp(httpPlugin, {
  name: 'authlab-http',
  fastify: '5.x',
  dependencies: ['authlab-redis'],
})
