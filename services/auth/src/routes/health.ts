import type { FastifyInstance } from 'fastify'

export default async function healthRoutes(fastify: FastifyInstance) {
  fastify.get('/auth/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }))

  // Ready = both stores answer and Redis' revocation copies are known complete (after a Redis
  // restart, not until auth has reconciled them). Checked per call: a stale answer would send
  // requests to a replica that can only fail them.
  fastify.get('/auth/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const [pg, redis] = await Promise.allSettled([fastify.pg.query('SELECT 1'), fastify.redis.ping()])
    const revocations = redis.status === 'fulfilled' && (await fastify.revocationReader.check())
    const status = {
      postgres: pg.status === 'fulfilled' ? 'up' : 'down',
      redis: redis.status === 'fulfilled' ? 'up' : 'down',
      revocations: revocations ? 'complete' : 'reconciling',
    }
    return reply.code(pg.status === 'fulfilled' && revocations ? 200 : 503).send(status)
  })

  fastify.get('/auth/openapi.json', { schema: { hide: true } }, async () => fastify.swagger())
}
