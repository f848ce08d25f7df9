import { redisClient, redisTopology } from '@authlab/clients'
import { ADMIN_ROLE, CSRF_HEADER, cookieNames, MODES, type Mode } from '@authlab/contract'
import {
  ErrorBody,
  errorHandler,
  metrics as metricsPlugin,
  serverOptions,
  unroutedRequests,
} from '@authlab/service-kit'
import { requireRole, verify } from '@authlab/verify'
import swagger from '@fastify/swagger'
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify'
import type { DownstreamConfig } from './config.ts'
import { createMetrics } from './metrics.ts'

/** A downstream service (orders, profile, …): every verification mode on every replica. */
export async function buildDownstreamApp(
  service: string,
  config: DownstreamConfig,
): Promise<FastifyInstance> {
  const app = Fastify(serverOptions({ ...config, service, replica: config.REPLICA_ID }))
  // Before any route, so that it knows them all: 405 with Allow for a known path's other methods, 404
  // for an unknown path, as auth answers.
  await app.register(unroutedRequests)
  // First, so the store clients can count their errors and every route gets its histogram.
  await app.register(metricsPlugin, { service, replica: config.REPLICA_ID, path: `/${service}/metrics` })
  const metrics = createMetrics(app.metricsRegistry)
  await app.register(redisClient, {
    ...redisTopology(config),
    commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
    connectionName: `${service}/${config.REPLICA_ID}`,
    onError: () => app.storeErrors.inc({ store: 'redis' }),
  })
  await app.register(verify, {
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    internalAudience: config.JWT_INTERNAL_AUDIENCE,
    algorithm: config.JWT_ALGORITHM,
    authUrl: config.AUTH_URL,
    jwksUrl: config.JWKS_URL ?? `${config.AUTH_URL}/.well-known/jwks.json`,
    jwksRefreshMs: config.JWKS_REFRESH_MS,
    clockToleranceMs: config.JWT_CLOCK_TOLERANCE_S * 1000,
    maxAgeMs: config.JWT_MAX_AGE_S * 1000,
    cookieSecure: config.COOKIE_SECURE,
    sessionIdleTtlMs: config.SESSION_IDLE_TTL_S * 1000,
    verifyCacheSize: config.JWT_VERIFY_CACHE_SIZE,
    sessionCacheTtlMs: config.SESSION_CACHE_TTL_MS,
    sessionCacheMaxEntries: config.SESSION_CACHE_MAX_ENTRIES,
    pushedMaxStalenessMs: config.PUSHED_MAX_STALENESS_MS,
    denylistFailOpen: config.DENYLIST_FAIL_OPEN,
    introspectTimeoutMs: config.INTROSPECT_TIMEOUT_MS,
    introspectionClient: { id: config.INTROSPECTION_CLIENT_ID, secret: config.INTROSPECTION_CLIENT_SECRET },
    feedObserver: {
      applied: (lagMs) => metrics.feedLagSeconds.observe(Math.max(0, lagMs) / 1000),
      resynced: () => metrics.feedResyncs.inc(),
    },
  })

  await app.register(swagger, {
    // Shared schemas keep their $id as their name in the document (ErrorBody, not def-0).
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
    openapi: {
      info: {
        title: `authlab ${service} service`,
        version: '0.1.0',
        description: `One route per verification mode; every replica of ${service} serves all of them. A state-changing request authenticated by cookie also needs the ${CSRF_HEADER} header.`,
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          session: { type: 'apiKey', in: 'cookie', name: cookieNames(config.COOKIE_SECURE).session },
        },
      },
    },
  })
  app.addSchema(ErrorBody)
  const errorRef = { $ref: 'ErrorBody#' }

  // Which replica answered is the demo's point; a deployment that would rather not tell turns it off.
  const replica = config.EXPOSE_REPLICA ? { replica: config.REPLICA_ID } : {}
  if (config.EXPOSE_REPLICA) {
    app.addHook('onSend', async (_request, reply) => {
      reply.header('x-replica', config.REPLICA_ID)
    })
  }

  app.setErrorHandler(errorHandler())

  /** The mode's authentication as an onRequest hook, timed and counted by outcome. */
  const measured =
    (mode: Mode, authenticate: ReturnType<typeof app.authenticate>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const end = metrics.verifySeconds.startTimer({ mode })
      let outcome = 'ok'
      try {
        await authenticate.call(app, request, reply)
      } catch (err) {
        outcome = (err as FastifyError).statusCode === 401 ? 'unauthorized' : 'unavailable'
        throw err
      } finally {
        end({ outcome })
        metrics.decisions.inc({ mode, outcome })
      }
    }

  /**
   * GET /<service>/<mode>/admin: 200 for a principal holding the admin role as this mode sees it,
   * 403 otherwise. How soon a role change reaches each mode is the point (docs/modes.md).
   */
  const registerAdminRoute = (
    mode: Mode,
    authenticate: ReturnType<typeof app.authenticate>,
    challenge: 'Bearer' | 'Cookie',
  ) => {
    app.get(
      `/${service}/${mode}/admin`,
      {
        schema: {
          summary: `An admin-only resource, authorised by the roles \`${mode}\` sees`,
          tags: ['modes'],
          security: [challenge === 'Cookie' ? { session: [] } : { bearer: [] }],
          response: {
            200: {
              type: 'object',
              required: ['sub', 'roles', 'mode', 'service'],
              properties: {
                sub: { type: 'string' },
                roles: { type: 'array', items: { type: 'string' } },
                mode: { type: 'string' },
                service: { type: 'string' },
                replica: { type: 'string' },
              },
            },
            401: errorRef,
            403: errorRef,
            503: errorRef,
          },
        },
        onRequest: measured(mode, authenticate),
        preHandler: requireRole(ADMIN_ROLE),
      },
      async (request) => {
        return { sub: request.user.userId, roles: request.user.roles, mode, service, ...replica }
      },
    )
  }

  // One route per mode; its strategy runs as an onRequest hook that sets request.user.
  for (const mode of MODES) {
    const authenticate = app.authenticate(mode)
    const challenge = app.authStrategies[mode].challenge
    app.get(
      `/${service}/${mode}/me`,
      {
        schema: {
          summary: `Who am I, verified by \`${mode}\``,
          tags: ['modes'],
          security: mode === 'none' ? [] : [challenge === 'Cookie' ? { session: [] } : { bearer: [] }],
          response: {
            200: {
              type: 'object',
              required: ['sub', 'mode', 'service'],
              properties: {
                sub: { type: 'string', description: 'the user id (empty for none)' },
                roles: { type: 'array', items: { type: 'string' }, description: 'the roles this mode saw' },
                mode: { type: 'string' },
                service: { type: 'string' },
                replica: { type: 'string', description: 'which replica answered (EXPOSE_REPLICA)' },
              },
            },
            401: errorRef,
            503: errorRef,
          },
        },
        onRequest: measured(mode, authenticate),
      },
      async (request) => ({ sub: request.user.userId, roles: request.user.roles, mode, service, ...replica }),
    )
    if (mode !== 'none') registerAdminRoute(mode, authenticate, challenge)
  }

  app.get(`/${service}/openapi.json`, { schema: { hide: true } }, async () => app.swagger())
  app.get(`/${service}/healthz`, { schema: { summary: 'Liveness', tags: ['operations'] } }, async () => ({
    status: 'ok',
    ...replica,
  }))
  app.get(
    `/${service}/readyz`,
    { schema: { summary: 'Readiness: Redis, revocation copies, signing keys', tags: ['operations'] } },
    async (_request, reply) => {
      const redis = await app.redis.ping().then(
        () => 'up',
        () => 'down',
      )
      const keys = app.jwks.size
      const revocations = redis === 'up' && (await app.revocationReader.check())
      const ready = revocations && keys > 0
      const modes = Object.fromEntries(MODES.map((m) => [m, app.authStrategies[m].ready()]))
      return reply
        .code(ready ? 200 : 503)
        .send({ redis, revocations: revocations ? 'complete' : 'reconciling', jwksKeys: keys, modes })
    },
  )
  return app
}
