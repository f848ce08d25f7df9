import { SESSION_ID_PATTERN } from '@authlab/contract'
import { UnauthorizedError, unavailable } from '../errors.ts'
import { modeOption } from '../options.ts'
import type { Principal, RedisStrategyContext, Strategy } from '../types.ts'

/** The session lookup both session modes share: one GETEX that also slides the idle timeout. */
export async function lookupSession(
  ctx: RedisStrategyContext,
  sessionId: string | undefined,
  idleTtlMs: number,
): Promise<Principal> {
  if (!sessionId) throw new UnauthorizedError('no session cookie')
  // Not even a well-formed id: no need to ask Redis.
  if (!SESSION_ID_PATTERN.test(sessionId)) throw new UnauthorizedError('invalid session')
  let record: Awaited<ReturnType<typeof ctx.reader.readSession>>
  try {
    record = await ctx.reader.readSession(sessionId, idleTtlMs)
  } catch (err) {
    throw unavailable(err, 'session store')
  }
  if (!record) throw new UnauthorizedError('invalid or expired session')
  return { userId: record.userId, loginId: record.loginId, roles: record.roles }
}

/** One Redis read per request: a logout takes effect at once; Redis down or not ready → 503. */
export function sessionStrategy(ctx: RedisStrategyContext): Strategy {
  const idleTtlMs = modeOption(ctx.options, 'sessionIdleTtlMs')
  return {
    mode: 'session',
    challenge: 'Cookie',
    ready: () => ctx.reader.ready,
    authenticate: (request) => lookupSession(ctx, ctx.sessionCookie(request), idleTtlMs),
  }
}
