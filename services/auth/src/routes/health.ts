import type { FastifyInstance } from 'fastify'

export default async function healthRoutes(fastify: FastifyInstance) {
  fastify.get('/auth/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }))

  // Ready = both stores answer. Checked per call: nginx and compose poll it, and a stale answer
  // would route logins to a replica that can only fail them.
  fastify.get('/auth/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const [pg, redis] = await Promise.allSettled([fastify.pg.query('SELECT 1'), fastify.redis.ping()])
    const status = {
      postgres: pg.status === 'fulfilled' ? 'up' : 'down',
      redis: redis.status === 'fulfilled' ? 'up' : 'down',
    }
    return reply.code(pg.status === 'fulfilled' && redis.status === 'fulfilled' ? 200 : 503).send(status)
  })

  fastify.get('/auth/openapi.json', { schema: { hide: true } }, async () => fastify.swagger())
}
