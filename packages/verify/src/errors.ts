import { asStoreError } from '@authlab/clients'
import type { PresentedCredential } from '@authlab/contract'
import createError from '@fastify/error'

export const UnauthorizedError = createError<[string, { cause: unknown }?]>('AUTHLAB_UNAUTHORIZED', '%s', 401)
export const VerifierUnavailableError = createError<[string, { cause: unknown }?]>(
  'AUTHLAB_VERIFIER_UNAVAILABLE',
  'Cannot verify the credential: %s',
  503,
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

/** The token of a presented credential (@authlab/contract's rule), or the 401 saying why there is none. */
export function credentialToken(credential: PresentedCredential): string {
  if (credential.source === 'malformed') throw new UnauthorizedError('malformed Authorization header')
  if (credential.source === 'none') throw new UnauthorizedError('no credential')
  return credential.token
}
/** Authenticated, but the credential's roles do not include the one the route requires. */
export const ForbiddenError = createError<[string]>('AUTHLAB_FORBIDDEN', 'This needs the %s role', 403)
