// Signing algorithms measured in this process (cold and warm verification), and the Redis round
// trip the modes that ask Redis pay on top.
import { measureAlgorithms, redisRoundTripUs } from '../algorithms.ts'
import type { Results } from '../results.ts'
import type { BenchContext } from './context.ts'

export async function measureSigning(ctx: BenchContext): Promise<Pick<Results, 'algorithms'>> {
  ctx.log('measuring signing algorithms (cold and warm verification)')
  return {
    algorithms: {
      verify: measureAlgorithms(ctx.profile.algorithmTokens),
      ...(ctx.redis ? { redisRoundTripUs: await redisRoundTripUs(ctx.redis) } : {}),
    },
  }
}
