// The credential pools every measuring phase draws from: one per token profile, reissued before
// their tokens expire.
import { credentialPool, type TokenProfile } from '../credentials.ts'
import { GATEWAY_LOGINS } from '../profiles.ts'
import type { Results } from '../results.ts'
import { textbookLogins } from '../textbook.ts'
import { type BenchContext, hasTextbook, type Pool } from './context.ts'

async function buildPool(ctx: BenchContext, tp: TokenProfile): Promise<void> {
  const maxLogins = ctx.opts.gateway
    ? GATEWAY_LOGINS
    : tp === 'cold'
      ? ctx.profile.coldLogins
      : Number.POSITIVE_INFINITY
  const prefix = `${ctx.runId}-${ctx.pools.size}-${Date.now().toString(36)}`
  const builtAt = Date.now()
  const { emails, ...pool } = await credentialPool(ctx.base, tp, prefix, maxLogins)
  // The peer's JWT lives ACCESS_TOKEN_TTL_S too: issued with the pool, it is reissued with it.
  const textbook = hasTextbook(ctx) ? await textbookLogins(ctx.base, emails) : undefined
  ctx.pools.set(tp, { ...pool, ...(textbook ? { textbook } : {}), builtAt })
  const peer = textbook ? `, ${textbook.length} textbook logins` : ''
  ctx.log(`  ${tp}: ${pool.sessions.length} sessions, ${pool.tokens.length} access tokens${peer}`)
}

export async function buildCredentials(ctx: BenchContext): Promise<Partial<Results>> {
  ctx.log('building credential pools')
  for (const tp of ctx.profile.tokenProfiles) await buildPool(ctx, tp)
  return {}
}

/** A pool whose tokens are still valid: a gateway's TTL is not ours to set, so rebuilt at 60 % of it. */
export async function freshPool(ctx: BenchContext, tp: TokenProfile): Promise<Pool> {
  const pool = ctx.pools.get(tp)!
  const ttlMs = (pool.tokens[0]?.expiresIn ?? 300) * 1000
  if (Date.now() - pool.builtAt > 0.6 * ttlMs) await buildPool(ctx, tp)
  return ctx.pools.get(tp)!
}
