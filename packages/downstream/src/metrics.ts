import { Counter, Histogram, type Registry } from 'prom-client'

/** What a downstream replica adds to its registry (the metrics plugin gives process and HTTP ones). */
export function createMetrics(registry: Registry) {
  return {
    decisions: new Counter({
      name: 'authlab_auth_decisions_total',
      help: 'Authentication decisions by mode and outcome (ok, unauthorized, unavailable)',
      labelNames: ['mode', 'outcome'] as const,
      registers: [registry],
    }),
    verifySeconds: new Histogram({
      name: 'authlab_verify_duration_seconds',
      help: 'Time spent deciding on a credential, by mode and outcome (refusals are timed too): for session and jwt-denylist this includes the Redis round trip',
      labelNames: ['mode', 'outcome'] as const,
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25],
      registers: [registry],
    }),
    feedLagSeconds: new Histogram({
      name: 'authlab_revocation_feed_lag_seconds',
      help: "jwt-pushed: time from auth's revocation write to this replica applying it",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    }),
    feedResyncs: new Counter({
      name: 'authlab_revocation_feed_resyncs_total',
      help: 'jwt-pushed: full resyncs of the local revocation set (connects, gaps, new generations)',
      registers: [registry],
    }),
  }
}
