import { asStoreError } from '@authlab/clients'
import createError from '@fastify/error'

export const UnauthorizedError = createError<[string, { cause: unknown }?]>('AUTHLAB_UNAUTHORIZED', '%s', 401)
export const VerifierUnavailableError = createError<[string, { cause: unknown }?]>(
  'AUTHLAB_VERIFIER_UNAVAILABLE',
  'Cannot verify the credential: %s',
  503,
)
export const CsrfHeaderMissingError = createError<[string]>(
  'AUTHLAB_CSRF_HEADER_MISSING',
  'A state-changing request authenticated by cookie must carry the %s header',
  403,
)
export const VerifyOptionsError = createError<[string]>('AUTHLAB_VERIFY_OPTIONS_INVALID', '%s', 500)
/** `fastify.authenticate(mode)` for a mode left out of the `modes` option: thrown when the route is defined. */
export const ModeNotRegisteredError = createError<[string, string]>(
  'AUTHLAB_VERIFY_MODE_NOT_REGISTERED',
  'Mode %s is not registered with @authlab/verify (registered: %s); add it to the modes option',
  500,
)

/** A store that could not answer becomes a 503 naming `what`; anything else passes unchanged. */
export function unavailable(err: unknown, what: string): Error {
  const mapped = asStoreError(err)
  if (mapped === err) return err as Error
  return new VerifierUnavailableError(`${what} unreachable`, { cause: err })
}
