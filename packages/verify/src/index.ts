export { verify } from './core.ts'
export {
  CsrfHeaderMissingError,
  ModeNotRegisteredError,
  UnauthorizedError,
  VerifierUnavailableError,
  VerifyOptionsError,
} from './errors.ts'
export { JwksCache } from './jwks.ts'
export type { Principal, RedisStrategyContext, Strategy, StrategyContext, VerifyOptions } from './types.ts'
