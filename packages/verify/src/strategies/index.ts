import type { Mode } from '@authlab/contract'
import type { RedisStrategyContext, Strategy, StrategyContext } from '../types.ts'
import { introspectStrategy } from './introspect.ts'
import { jwtStrategy } from './jwt.ts'
import { jwtDenylistStrategy } from './jwt-denylist.ts'
import { jwtPushedStrategy } from './jwt-pushed.ts'
import { noneStrategy } from './none.ts'
import { phantomStrategy } from './phantom.ts'
import { sessionStrategy } from './session.ts'
import { sessionCachedStrategy } from './session-cached.ts'

/** How a mode's strategy is built, and whether it reads Redis (then it needs the Redis context). */
export type StrategyBuilder =
  | { readonly redis: false; build(ctx: StrategyContext): Strategy }
  | { readonly redis: true; build(ctx: RedisStrategyContext): Strategy }

/** Every mode's builder: only the registered modes' are called. */
export const STRATEGIES: Readonly<Record<Mode, StrategyBuilder>> = {
  none: { redis: false, build: noneStrategy },
  jwt: { redis: false, build: jwtStrategy },
  introspect: { redis: false, build: introspectStrategy },
  phantom: { redis: false, build: phantomStrategy },
  session: { redis: true, build: sessionStrategy },
  'session-cached': { redis: true, build: sessionCachedStrategy },
  'jwt-denylist': { redis: true, build: jwtDenylistStrategy },
  'jwt-pushed': { redis: true, build: jwtPushedStrategy },
}
