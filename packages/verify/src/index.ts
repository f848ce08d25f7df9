export { verify } from './core.ts'
export {
  CsrfHeaderMissingError,
  UnauthorizedError,
  VerifierUnavailableError,
  VerifyOptionsError,
} from './errors.ts'
export { JwksCache } from './jwks.ts'
export type { Principal, Strategy, StrategyContext, VerifyOptions } from './types.ts'
