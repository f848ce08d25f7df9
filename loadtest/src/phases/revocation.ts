// How long a revoked credential keeps working in each mode, on every replica.
import { REVOCATION_WINDOW_MS } from '../profiles.ts'
import type { Results } from '../results.ts'
import { revocationProbe } from '../revocation.ts'
import type { BenchContext } from './context.ts'

export async function probeRevocation(ctx: BenchContext): Promise<Pick<Results, 'revocation'>> {
  const trials = ctx.profile.revocationTrials
  ctx.log(`revocation probe: ${trials} trials`)
  const revocation = await revocationProbe(ctx.base, {
    trials,
    windowMs: REVOCATION_WINDOW_MS,
    lanesPerMode: 2,
    run: ctx.runId,
    onTrial: (i) => ctx.log(`  trial ${i + 1}/${trials}`),
  })
  return { revocation }
}
