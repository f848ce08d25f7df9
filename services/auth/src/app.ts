import { metrics, serverOptions, unroutedRequests } from '@authlab/service-kit'
import swaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyInstance } from 'fastify'
import type { AuthConfig } from './config.ts'
import credentials from './plugins/app/credentials.ts'
import http from './plugins/app/http.ts'
import keys from './plugins/app/keys.ts'
import loginThrottle from './plugins/app/login-throttle.ts'
import authMetrics from './plugins/app/metrics.ts'
import migrations from './plugins/app/migrations.ts'
import permissions from './plugins/app/permissions.ts'
import revocations from './plugins/app/revocations.ts'
import users from './plugins/app/users.ts'
import stores from './plugins/external/stores.ts'
import authRoutes from './routes/auth.ts'
import exchangeRoutes from './routes/exchange.ts'
import healthRoutes from './routes/health.ts'
import introspectRoutes from './routes/introspect.ts'
import jwksRoutes from './routes/jwks.ts'

/** The auth service: stores → app plugins → routes. */
export async function buildApp(config: AuthConfig): Promise<FastifyInstance> {
  const app = Fastify({
    ...serverOptions({ ...config, service: 'auth' }),
    // Credentials are validated as sent: no coercion (`{"token": 123}` is a 400, not the string
    // "123"), and unknown properties are refused rather than silently dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  })
  try {
    // Before any route, so that it knows them all: 405 with Allow for a known path's other methods
    // (QUERY and methods Fastify does not route included), 404 for an unknown path.
    await app.register(unroutedRequests)
    // First of the rest, so the store clients can count their errors and every route gets its histogram.
    await app.register(metrics, { service: 'auth', replica: config.REPLICA_ID, path: '/auth/metrics' })
    await app.register(authMetrics)
    await app.register(stores, { config })
    // auth does not migrate (the migrate command does, as the schema owner): it refuses to start
    // on a schema that lacks one of its migrations.
    await app.register(migrations)
    await app.register(http)
    // Development aid: the OpenAPI document, browsable. Off in production unless API_DOCS=true.
    if (config.API_DOCS) await app.register(swaggerUi, { routePrefix: '/auth/docs' })
    await app.register(keys, { config })
    await app.register(users, { config })
    await app.register(loginThrottle, { config })
    await app.register(revocations, { config })
    await app.register(credentials, { config })
    await app.register(permissions, { config })
    await app.register(healthRoutes)
    await app.register(jwksRoutes, { config })
    await app.register(authRoutes, { config })
    await app.register(introspectRoutes, { config })
    await app.register(exchangeRoutes, { config })
  } catch (err) {
    // A plugin that failed to start (a store down, a wrong key-encryption key) must not leave the
    // clients of the ones before it open.
    await app.close().catch(() => {})
    throw err
  }
  return app
}
