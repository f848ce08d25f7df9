import { SESSION_ID_PATTERN } from '@authlab/contract'
import { UnauthorizedError, unavailable } from '../errors.ts'
import type { Principal, Strategy, StrategyContext } from '../types.ts'

/** The session lookup both session modes share: one GETEX that also slides the idle timeout. */
export async function lookupSession(ctx: StrategyContext, sessionId: string | undefined): Promise<Principal> {
  if (!sessionId) throw new UnauthorizedError('no session cookie')
  // Not even a well-formed id: no need to ask Redis.
  if (!SESSION_ID_PATTERN.test(sessionId)) throw new UnauthorizedError('invalid session')
  let record: Awaited<ReturnType<typeof ctx.reader.readSession>>
  try {
    record = await ctx.reader.readSession(sessionId, ctx.options.sessionIdleTtlMs)
  } catch (err) {
    throw unavailable(err, 'session store')
  }
  if (!record) throw new UnauthorizedError('invalid or expired session')
  return { userId: record.userId, loginId: record.loginId }
}

/** One Redis read per request: a logout takes effect at once; Redis down or not ready → 503. */
export function sessionStrategy(ctx: StrategyContext): Strategy {
  return {
    mode: 'session',
    challenge: 'Cookie',
    ready: () => ctx.reader.ready,
    authenticate: (request) => lookupSession(ctx, ctx.sessionCookie(request)),
  }
}
