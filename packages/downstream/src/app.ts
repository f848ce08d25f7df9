import { redisClient } from '@authlab/clients'
import { serverOptions } from '@authlab/config'
import { MODES, type Mode } from '@authlab/contract'
import { allStrategies, verifyPlugin } from '@authlab/verify'
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import type { DownstreamConfig } from './config.ts'
import { createMetrics } from './metrics.ts'

const SESSION_MODES = new Set<Mode>(['session', 'session-cached'])

/** A downstream service (orders, profile, …): every mode of spec §3 on every replica. */
export async function buildDownstreamApp(
  service: string,
  config: DownstreamConfig,
): Promise<FastifyInstance> {
  const app = Fastify(serverOptions({ ...config, service, replica: config.REPLICA_ID }))
  await app.register(redisClient, {
    url: config.REDIS_URL,
    commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
    connectionName: `${service}/${config.REPLICA_ID}`,
  })
  await app.register(verifyPlugin, {
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    algorithm: config.JWT_ALGORITHM,
    authUrl: config.AUTH_URL,
    jwksUrl: config.JWKS_URL ?? `${config.AUTH_URL}/.well-known/jwks.json`,
    cookieSecure: config.COOKIE_SECURE,
    sessionIdleTtlMs: config.SESSION_IDLE_TTL_S * 1000,
    verifyCacheSize: config.JWT_VERIFY_CACHE_SIZE,
    sessionCacheTtlMs: config.SESSION_CACHE_TTL_MS,
    sessionCacheMaxEntries: config.SESSION_CACHE_MAX_ENTRIES,
    pushedMaxStalenessMs: config.PUSHED_MAX_STALENESS_MS,
    denylistFailOpen: config.DENYLIST_FAIL_OPEN,
    introspectTimeoutMs: config.INTROSPECT_TIMEOUT_MS,
  })
  await app.register(allStrategies)

  const metrics = createMetrics(service, config.REPLICA_ID)
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-replica', config.REPLICA_ID)
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const statusCode = error.validation ? 400 : (error.statusCode ?? 500)
    if (statusCode >= 500 && statusCode !== 503) request.log.error({ err: error }, 'request failed')
    if (statusCode === 503) reply.header('retry-after', '1')
    reply.code(statusCode).send({
      statusCode,
      code: error.code,
      error: statusCode === 401 ? 'Unauthorized' : statusCode === 503 ? 'Service Unavailable' : 'Error',
      message: statusCode === 500 ? 'Internal Server Error' : error.message,
    })
  })

  app.get(
    `/${service}/:mode/me`,
    {
      schema: {
        params: Type.Object({ mode: Type.Union(MODES.map((m) => Type.Literal(m))) }),
      },
    },
    async (request, reply) => {
      const { mode } = request.params as { mode: Mode }
      const strategy = app.authStrategies.get(mode)!
      const end = metrics.verifySeconds.startTimer({ mode })
      try {
        const principal = await strategy.authenticate(request)
        end()
        metrics.decisions.inc({ mode, outcome: 'ok' })
        return { sub: principal.sub, mode, service, replica: config.REPLICA_ID }
      } catch (err) {
        const status = (err as FastifyError).statusCode
        metrics.decisions.inc({ mode, outcome: status === 401 ? 'unauthorized' : 'unavailable' })
        if (status === 401) {
          reply.header(
            'www-authenticate',
            SESSION_MODES.has(mode) ? 'Cookie realm="authlab"' : 'Bearer realm="authlab"',
          )
        }
        throw err
      }
    },
  )

  app.get(`/${service}/healthz`, async () => ({ status: 'ok', replica: config.REPLICA_ID }))
  app.get(`/${service}/readyz`, async (_request, reply) => {
    const redis = await app.redis.ping().then(
      () => 'up',
      () => 'down',
    )
    const keys = app.jwks.size
    const ready = redis === 'up' && keys > 0
    return reply
      .code(ready ? 200 : 503)
      .send({ redis, jwksKeys: keys, revocationFeedSynced: app.revocationFeed.synced })
  })
  app.get(`/${service}/metrics`, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType)
    return metrics.registry.metrics()
  })
  return app
}
