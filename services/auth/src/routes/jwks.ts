import type { FastifyInstance } from 'fastify'
import type { AuthConfig } from '../config.ts'

export default async function jwksRoutes(fastify: FastifyInstance, opts: { config: AuthConfig }) {
  fastify.get('/.well-known/jwks.json', { schema: { tags: ['keys'] } }, async (_request, reply) => {
    reply.header('cache-control', `public, max-age=${opts.config.JWKS_MAX_AGE_S}`)
    return fastify.keys.jwks
  })
}
