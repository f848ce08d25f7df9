// The CSRF error is the contract's own, re-exported so a verifier's user need not import both.
export { CsrfHeaderMissingError } from '@authlab/contract'
export { verify } from './core.ts'
export {
  ForbiddenError,
  ModeNotRegisteredError,
  UnauthorizedError,
  VerifierUnavailableError,
  VerifyOptionsError,
} from './errors.ts'
export { JwksCache } from './jwks.ts'
export { requireRole } from './roles.ts'
export type { Principal, RedisStrategyContext, Strategy, StrategyContext, VerifyOptions } from './types.ts'
