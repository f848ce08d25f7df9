import { asStoreError, storeUnavailableReason } from '@authlab/clients'
import { ErrorBody, errorHandler } from '@authlab/service-kit'
import cookie from '@fastify/cookie'
import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
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
    // Shared schemas keep their $id as their name in the document (ErrorBody, not def-0).
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
    openapi: {
      info: { title: 'authlab auth service', version: '0.1.0' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          introspectionClient: { type: 'http', scheme: 'basic' },
          sessionCookie: {
            type: 'apiKey',
            in: 'cookie',
            name: 'sid',
            description:
              '`__Host-sid` with COOKIE_SECURE; a state-changing request also needs x-authlab-csrf',
          },
        },
      },
    },
  })

  fastify.addSchema(ErrorBody)

  // Many HTTP clients send `content-type: application/json` with an empty body on a POST that
  // needs none (logout); that is no body, not malformed JSON. Anything else goes to Fastify's own
  // parser, prototype-poisoning checks included.
  const json = fastify.getDefaultJsonParser('error', 'error')
  fastify.removeContentTypeParser('application/json')
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined)
    else json(request, body as string, done)
  })

  // A request that failed because a store could not answer is a store error too.
  const map = (err: unknown) => {
    const store = storeUnavailableReason(err)
    if (store) fastify.storeErrors.inc({ store: store.toLowerCase() })
    return asStoreError(err)
  }
  fastify.setErrorHandler(errorHandler({ map }))
}

export default fp(httpPlugin, {
  name: 'authlab-http',
  fastify: '5.x',
  dependencies: ['authlab-redis'],
})
