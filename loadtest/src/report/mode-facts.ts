import type { Mode } from '../credentials.ts'

/**
 * What each mode is, as the product defines it (the tests under packages/ prove each line; the
 * bench's figures go beside it). Cells of the decision table, kept short.
 */
export interface ModeFacts {
  credential: string
  work: string
  bound: string
  /** how soon a role change reaches the mode (docs/modes.md) */
  permissionChange: string
  redisDown: string
}

export const MODE_FACTS: Readonly<Record<Mode, ModeFacts>> = {
  none: {
    credential: '—',
    work: 'none (the baseline)',
    bound: '—',
    permissionChange: '—',
    redisDown: 'unaffected',
  },
  jwt: {
    credential: 'JWT',
    work: 'signature and claims, in process',
    bound: 'at `exp`',
    permissionChange: 'at the next refresh (`exp` at the latest)',
    redisDown: 'unaffected',
  },
  session: {
    credential: '`sid` cookie',
    work: 'one Redis `GETEX`',
    bound: 'at once',
    permissionChange: 'at once (record rewritten in place)',
    redisDown: '503 (fails closed)',
  },
  'session-cached': {
    credential: '`sid` cookie',
    work: '≤ one `GETEX` per session per cache TTL per replica',
    bound: 'within `SESSION_CACHE_TTL_MS`',
    permissionChange: 'within `SESSION_CACHE_TTL_MS`',
    redisDown: 'cached sessions until their TTL, then 503',
  },
  'jwt-denylist': {
    credential: 'JWT',
    work: 'signature, then one Redis `MGET`',
    bound: 'at once',
    permissionChange: 'at once (older tokens cut off; a refresh carries the new roles)',
    redisDown: '503 (fail-open only if configured)',
  },
  'jwt-pushed': {
    credential: 'JWT',
    work: 'signature, then a local set fed by Redis pub/sub',
    bound: 'within `PUSHED_MAX_STALENESS_MS`',
    permissionChange: 'within `PUSHED_MAX_STALENESS_MS` (cut-off)',
    redisDown: 'local state for `PUSHED_MAX_STALENESS_MS`, then 503',
  },
  introspect: {
    credential: 'JWT or `sid`',
    work: 'one HTTP call to auth (RFC 7662)',
    bound: 'at once',
    permissionChange: 'at once',
    redisDown: '503 (auth needs Redis)',
  },
  phantom: {
    credential: '`sid` (cookie or Bearer), at the gateway',
    work: "the gateway: ≤ one exchange at auth (one `GETEX`) per session per cache TTL; the replica: an internal JWT's signature, in process",
    bound: 'within `PHANTOM_CACHE_TTL_MS`',
    permissionChange: 'within `PHANTOM_CACHE_TTL_MS` (record rewritten in place)',
    redisDown: 'cached exchanges until their TTL, then 503',
  },
}
