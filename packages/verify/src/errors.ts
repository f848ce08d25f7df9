import createError from '@fastify/error'

export const UnauthorizedError = createError<[string]>('AUTHLAB_UNAUTHORIZED', '%s', 401)
export const VerifierUnavailableError = createError<[string]>(
  'AUTHLAB_VERIFIER_UNAVAILABLE',
  'Cannot verify the credential: %s',
  503,
)
export const VerifyOptionsError = createError<[string]>('AUTHLAB_VERIFY_OPTIONS_INVALID', '%s', 500)
