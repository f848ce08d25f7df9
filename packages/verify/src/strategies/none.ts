import type { Strategy } from '../types.ts'

/** Baseline: no credential, no work, so the other modes' cost can be read against it. */
export function noneStrategy(): Strategy {
  return {
    mode: 'none',
    challenge: 'Bearer',
    ready: () => true,
    authenticate: async () => ({ userId: 'anonymous', roles: [] }),
  }
}
