import createError from '@fastify/error'

/**
 * A state-changing request authenticated by cookie without the CSRF header (see `assertCsrfProof`).
 * One error, one code and one message for auth and every verifier; its argument is the header's name.
 */
export const CsrfHeaderMissingError = createError<[string]>(
  'AUTHLAB_CSRF_HEADER_MISSING',
  'A state-changing request authenticated by cookie must carry the %s header',
  403,
)
