import type { FastifyInstance, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'

type Outcome = 'ok' | 'rejected' | 'invalid' | 'throttled' | 'unavailable' | 'error'

declare module 'fastify' {
  interface FastifyInstance {
    authMetrics: {
      logins: Counter<'outcome'>
      refreshes: Counter<'outcome'>
      /** Counted once its transaction has committed, never for a retried or failed attempt. */
      revocations: Counter<'reason'>
      /** An onResponse hook counting the route's answers in `counter` by outcome. */
      countOutcome(counter: Counter<'outcome'>): (request: unknown, reply: FastifyReply) => Promise<void>
    }
  }
}

/** What an answer's status says about the attempt, in the few words a dashboard needs. */
export function outcomeOf(statusCode: number): Outcome {
  if (statusCode < 400) return 'ok'
  if (statusCode === 401 || statusCode === 403) return 'rejected'
  if (statusCode === 429) return 'throttled'
  if (statusCode === 503) return 'unavailable'
  if (statusCode < 500) return 'invalid'
  return 'error'
}

/** auth's own series, beside the process and HTTP ones of @authlab/metrics. */
async function authMetricsPlugin(fastify: FastifyInstance) {
  const registers = [fastify.metricsRegistry]
  fastify.decorate('authMetrics', {
    logins: new Counter({
      name: 'authlab_logins_total',
      help: 'Login attempts by outcome (ok, rejected, throttled, invalid, unavailable, error)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    refreshes: new Counter({
      name: 'authlab_refreshes_total',
      help: 'Refresh attempts by outcome; a reused refresh token is rejected and revokes its login',
      labelNames: ['outcome'] as const,
      registers,
    }),
    revocations: new Counter({
      name: 'authlab_revocations_total',
      help: 'Committed revocations by reason (logout, logout-all, refresh-token-reuse, revoke, password-change, session-end, logout-others, role-change, user-disabled)',
      labelNames: ['reason'] as const,
      registers,
    }),
    countOutcome: (counter: Counter<'outcome'>) => async (_request: unknown, reply: FastifyReply) => {
      counter.inc({ outcome: outcomeOf(reply.statusCode) })
    },
  })
}

export default fp(authMetricsPlugin, {
  name: 'authlab-auth-metrics',
  fastify: '5.x',
  dependencies: ['@authlab/metrics'],
})
