// What each mode does while a dependency fails (Redis stopped or emptied, auth stopped, a replica
// killed), and whether a revoked credential gets through.
import { runFaults } from '../faults.ts'
import { FAULT_SETTLE_MS } from '../profiles.ts'
import type { Results } from '../results.ts'
import type { BenchContext } from './context.ts'

/** The scenarios stop and restart processes of the main cluster, and stop its one Redis. */
export function faultsApply(ctx: BenchContext): boolean {
  return Boolean(ctx.cluster) && ctx.redisMode === 'standalone'
}

export async function injectFaults(ctx: BenchContext): Promise<Pick<Results, 'faults'>> {
  ctx.log('faults')
  const faults = await runFaults(ctx.cluster!, {
    phaseMs: ctx.profile.faultPhaseMs,
    run: ctx.runId,
    settleMs: FAULT_SETTLE_MS,
    onScenario: (s) => ctx.log(`  ${s}`),
  })
  return { faults }
}
