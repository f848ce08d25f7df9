// How long a revoked credential, and a withdrawn role, keep working in each mode, on every replica.
import { login } from '../credentials.ts'
import { REVOCATION_WINDOW_MS } from '../profiles.ts'
import type { Results } from '../results.ts'
import { permissionProbe, revocationProbe } from '../revocation.ts'
import type { BenchContext } from './context.ts'
import { probeTextbook } from './peer-probe.ts'

export async function probeRevocation(
  ctx: BenchContext,
): Promise<Pick<Results, 'revocation' | 'permissionChange' | 'peerProbe'>> {
  const trials = ctx.profile.revocationTrials
  ctx.log(`revocation probe: ${trials} trials`)
  const revocation = await revocationProbe(ctx.base, {
    trials,
    windowMs: REVOCATION_WINDOW_MS,
    lanesPerMode: 2,
    run: ctx.runId,
    onTrial: (i) => ctx.log(`  trial ${i + 1}/${trials}`),
  })
  const peer = await probeTextbook(ctx)
  const { cluster } = ctx
  if (!cluster) {
    // The first admin is made with auth's admin CLI beside auth: the bench cannot against a gateway.
    ctx.skipped.push(
      'permission-change probe: needs the native cluster (its first admin is made with the admin CLI)',
    )
    return { revocation, ...peer }
  }
  const adminEmail = `bench-admin-${ctx.runId}@example.test`
  await login(ctx.base, adminEmail)
  await cluster.admin('roles', adminEmail, 'admin')
  ctx.log(`permission-change probe: ${trials} trials`)
  const permissionChange = await permissionProbe(ctx.base, {
    trials,
    windowMs: REVOCATION_WINDOW_MS,
    lanesPerMode: 2,
    run: ctx.runId,
    admin: () => login(ctx.base, adminEmail),
    onTrial: (i) => ctx.log(`  trial ${i + 1}/${trials}`),
  })
  return { revocation, permissionChange, ...peer }
}
