import type { FastifyPluginAsync, FastifySchema } from 'fastify'
import fastifyMetricsModule from 'fastify-metrics'
import fp from 'fastify-plugin'
import { Counter, Registry } from 'prom-client'
import { ConfigInvalidError } from './errors.ts'

// fastify-metrics is CommonJS with an ES-style default export.
const fastifyMetrics = fastifyMetricsModule.default

export interface MetricsOptions {
  service: string
  /** Every series carries it, so Prometheus can tell the replicas of one service apart. */
  replica: string
  /** Where the exposition is served; not routed by the gateway. */
  path: string
}

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's registry: process metrics, HTTP histograms by route, and what the service adds. */
    metricsRegistry: Registry
    /** Errors of a store client (Redis, Postgres), by store; the clients count them. */
    storeErrors: Counter<'store'>
  }
}

/**
 * Prometheus metrics for every authlab service, through fastify-metrics on prom-client: process
 * metrics and a request-duration histogram per route (summaries off: a histogram aggregates across
 * replicas, a summary does not). One registry per app rather than prom-client's global one, so two
 * apps in one process (tests, the bench's in-process runs) never collide, and so the registry's
 * default labels (service, replica) survive: fastify-metrics' own endpoint merges registries and
 * would drop them, hence `endpoint: null` and the route below.
 */
const plugin: FastifyPluginAsync<MetricsOptions> = async (app, opts) => {
  for (const key of ['service', 'replica', 'path'] as const) {
    if (typeof opts[key] !== 'string' || opts[key] === '') {
      throw new ConfigInvalidError(`metrics: option ${key} must be a non-empty string`)
    }
  }
  if (!opts.path.startsWith('/')) throw new ConfigInvalidError('metrics: path must start with /')

  const registry = new Registry()
  registry.setDefaultLabels({ service: opts.service, replica: opts.replica })
  await app.register(fastifyMetrics, {
    endpoint: null,
    defaultMetrics: { enabled: true, register: registry },
    routeMetrics: {
      enabled: { histogram: true, summary: false },
      routeBlacklist: [opts.path],
      overrides: {
        histogram: {
          registers: [registry],
          // From a cached-token answer (~50 µs) to an argon2id login (~50 ms) and a slow store.
          buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
        },
        // Created (unused) even when disabled; kept out of prom-client's global registry.
        summary: { registers: [registry] },
      },
    },
  })
  // fastify-metrics creates its summary even when it is off; an empty family is only noise.
  registry.removeSingleMetric('http_request_summary_seconds')
  app.decorate('metricsRegistry', registry)
  app.decorate(
    'storeErrors',
    new Counter({
      name: 'authlab_store_errors_total',
      help: 'Errors reported by a store client (connection lost, command failed), by store',
      labelNames: ['store'] as const,
      registers: [registry],
    }),
  )
  // `hide` is @fastify/swagger's: the exposition is for Prometheus, not for the API document.
  const schema = { hide: true } as FastifySchema
  app.get(opts.path, { schema, logLevel: 'warn' }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  )
}

export const metrics = fp(plugin, { name: '@authlab/metrics', fastify: '5.x' })
