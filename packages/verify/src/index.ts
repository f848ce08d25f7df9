import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import {
  introspectStrategy,
  jwtDenylistStrategy,
  jwtStrategy,
  noneStrategy,
  sessionCachedStrategy,
  sessionStrategy,
} from './strategies/basic.ts'
import { jwtPushedStrategy } from './strategies/pushed.ts'

export { verifyPlugin } from './core.ts'
export { UnauthorizedError, VerifierUnavailableError, VerifyOptionsError } from './errors.ts'
export { JwksCache } from './jwks.ts'
export {
  introspectStrategy,
  jwtDenylistStrategy,
  jwtStrategy,
  noneStrategy,
  sessionCachedStrategy,
  sessionStrategy,
} from './strategies/basic.ts'
export { jwtPushedStrategy, RevocationFeed } from './strategies/pushed.ts'
export type { Principal, Strategy, VerifyOptions } from './types.ts'

const STRATEGIES = [
  noneStrategy,
  jwtStrategy,
  sessionStrategy,
  sessionCachedStrategy,
  jwtDenylistStrategy,
  jwtPushedStrategy,
  introspectStrategy,
]

/** Mounts every strategy, so one service answers in every mode and a run compares them all. */
export const allStrategies = fp(
  async (fastify: FastifyInstance) => {
    for (const strategy of STRATEGIES) await fastify.register(strategy)
  },
  { name: 'authlab-strategies', fastify: '5.x', dependencies: ['authlab-verify-core'] },
)
