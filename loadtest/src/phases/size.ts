// What each credential weighs and what each mode's requests and responses carry through the
// gateway (loadtest/src/size.ts), on a login of its own so the other phases' pools are untouched.
import type { Results } from '../results.ts'
import { measureSize } from '../size.ts'
import type { BenchContext } from './context.ts'

export function sizeApplies(ctx: BenchContext): boolean | string {
  return ctx.profile.sizeRequestsPerMode > 0 || 'size: the profile sends no requests for it'
}

export async function measureSizes(ctx: BenchContext): Promise<Pick<Results, 'size'>> {
  ctx.log('measuring credential sizes and bytes per request at the gateway')
  const size = await measureSize({
    base: ctx.base,
    bytesLog: ctx.cluster?.bytesLog,
    requestsPerMode: ctx.profile.sizeRequestsPerMode,
    run: ctx.runId,
    log: ctx.log,
  })
  if (size.wireSkipped) ctx.skipped.push(size.wireSkipped)
  return { size }
}
