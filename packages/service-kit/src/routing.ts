import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { MethodNotAllowedError, RouteNotFoundError } from './errors.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Every URL pattern declared on this app since `unroutedRequests` was registered, with the
     * methods the router has for it (`hasRoute`), sorted: HEAD with GET as Fastify adds it, and the
     * trailing-slash twin of a prefixed plugin's `/` route, which Fastify does not report, included.
     * For tests and diagnostics.
     */
    declaredRoutes(): ReadonlyMap<string, readonly string[]>
  }
}

/**
 * The methods some route answers for `url` (a request's own, query string and all), sorted: those of
 * the app's supported methods for which the router, Fastify's own (`findRoute`, its lookup of a
 * request's path, parameters and wildcards included), finds a route.
 */
export function allowedMethods(fastify: FastifyInstance, url: string): string[] {
  return fastify.supportedMethods.filter((method) => fastify.findRoute({ method, url }) !== null).sort()
}

/**
 * The answer to a request no route took: 405 with `Allow` naming the path's methods (RFC 9110
 * §15.5.6) when its path has routes, else 404. Thrown, so the app's error handler shapes it.
 */
function unrouted(fastify: FastifyInstance, request: FastifyRequest, reply: FastifyReply): FastifyError {
  const path = request.url.split('?')[0] ?? request.url
  const allowed = allowedMethods(fastify, request.url)
  // From reply.callNotFound() the method may be one the path has: still not found, not a 405.
  if (allowed.length === 0 || allowed.includes(request.method)) {
    return new RouteNotFoundError(`${request.method} ${path}`)
  }
  const allow = allowed.join(', ')
  reply.header('allow', allow)
  return new MethodNotAllowedError(allow)
}

/**
 * 405 and 404 for every service, the same way. Fastify sends a request its router has no route
 * for, whether the path is unknown or only the method, to the not-found handler, through the whole
 * lifecycle: body parsing included, so `QUERY` without a Content-Type would be a 400 and a `PUT`
 * with an unknown one a 415 before any not-found handler ran. The decision is taken in an onRequest
 * hook instead, which runs before parsing (`request.is404` tells the not-found route apart, for the
 * cost of one property read on every other request). The not-found handler stays for
 * `reply.callNotFound()`. Methods Node's HTTP parser does not know (`BREW`) never reach Fastify:
 * Node answers them 400 itself.
 *
 * Register it before the routes (first is best): `declaredRoutes` lists only routes declared after.
 * Sets the app's not-found handler, so the app must not set its own.
 */
async function unroutedPlugin(fastify: FastifyInstance) {
  const urls = new Set<string>()
  fastify.addHook('onRoute', (route) => {
    urls.add(route.url)
  })
  fastify.decorate('declaredRoutes', () => {
    const methods = (url: string) =>
      fastify.supportedMethods.filter((method) => fastify.hasRoute({ method, url })).sort()
    return new Map([...urls].map((url) => [url, methods(url)] as const))
  })
  fastify.addHook('onRequest', (request, reply, done) => {
    if (request.is404) done(unrouted(fastify, request, reply))
    else done()
  })
  fastify.setNotFoundHandler(async (request, reply) => {
    throw unrouted(fastify, request, reply)
  })
}

export const unroutedRequests = fp(unroutedPlugin, { name: '@authlab/unrouted-requests', fastify: '5.x' })
