import { Counter, Histogram, Registry } from 'prom-client'

export function createMetrics(service: string, replica: string) {
  const registry = new Registry()
  registry.setDefaultLabels({ service, replica })
  return {
    registry,
    decisions: new Counter({
      name: 'authlab_auth_decisions_total',
      help: 'Authentication decisions by mode and outcome (ok, unauthorized, unavailable)',
      labelNames: ['mode', 'outcome'] as const,
      registers: [registry],
    }),
    verifySeconds: new Histogram({
      name: 'authlab_verify_duration_seconds',
      help: 'Time spent verifying a credential, by mode: for session and jwt-denylist this is the Redis round trip',
      labelNames: ['mode'] as const,
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
      registers: [registry],
    }),
  }
}
