// Before any figure: Redis's idle command rate (taken off every window's count), then one pass over
// every mode, since a fresh Node process runs interpreted until its hot paths are compiled and the
// first mode measured would pay for every process's JIT warm-up.
import { redisStats } from '../measure.ts'
import { CONNECTIONS } from '../profiles.ts'
import type { Results } from '../results.ts'
import { rowPool, rowsOf } from '../textbook.ts'
import { type BenchContext, hasTextbook } from './context.ts'

async function idleRedisCallsPerS(ctx: BenchContext): Promise<number> {
  if (!ctx.redisNodes.length) return 0
  const before = await redisStats(ctx.redisNodes)
  await new Promise((r) => setTimeout(r, 1000))
  return (await redisStats(ctx.redisNodes)).calls - before.calls
}

export async function warmUp(ctx: BenchContext): Promise<Partial<Results>> {
  ctx.backgroundCallsPerS = await idleRedisCallsPerS(ctx)
  ctx.log('warming up every mode')
  for (const tp of ctx.profile.tokenProfiles) {
    // One window over all modes interleaved (and the peer's rows: its Express process is fresh too).
    const mixed = rowsOf(hasTextbook(ctx)).flatMap((row) => rowPool(row, ctx.pools.get(tp)!).slice(0, 64))
    await ctx.generator.saturate(ctx.base, mixed, { connections: CONNECTIONS, durationS: 2 })
  }
  return {}
}
