// The textbook peer after logout and logout-all, where the main cluster runs it (the revocation
// phase calls this beside its own probes; the start phase already said why when it does not).
import { peerProbe } from '../peer-probe.ts'
import { REVOCATION_WINDOW_MS } from '../profiles.ts'
import type { Results } from '../results.ts'
import { type BenchContext, hasTextbook } from './context.ts'

/** The tutorial's answers do not race anything (nothing revokes them), so a few trials show them. */
const PEER_TRIALS = 3

export async function probeTextbook(ctx: BenchContext): Promise<Pick<Results, 'peerProbe'>> {
  const cluster = ctx.cluster
  if (!(cluster && hasTextbook(ctx))) return {}
  const trials = Math.min(PEER_TRIALS, ctx.profile.revocationTrials)
  ctx.log(`textbook peer probe: ${trials} trials each of logout and logout-all`)
  const replicas = cluster.peers.get('textbook')!.slice(0, cluster.activeReplicas).length
  const probe = await peerProbe(ctx.base, {
    trials,
    windowMs: REVOCATION_WINDOW_MS,
    replicas,
    run: ctx.runId,
    onTrial: (what) => ctx.log(`  ${what}`),
  })
  return { peerProbe: probe }
}
