import createError from '@fastify/error'

export const EmailTakenError = createError('AUTHLAB_EMAIL_TAKEN', 'This email is already registered', 409)
export const InvalidCredentialsError = createError(
  'AUTHLAB_INVALID_CREDENTIALS',
  'Invalid email or password',
  401,
)
export const RefreshInvalidError = createError(
  'AUTHLAB_REFRESH_INVALID',
  'Refresh token is invalid or expired',
  401,
)
export const RefreshReusedError = createError(
  'AUTHLAB_REFRESH_REUSED',
  'Refresh token was already used; the login has been revoked',
  401,
)
export const UnauthenticatedError = createError<[string]>('AUTHLAB_UNAUTHENTICATED', '%s', 401)
export const RateLimitedError = createError<[number]>(
  'AUTHLAB_RATE_LIMITED',
  'Too many attempts, retry in %s s',
  429,
)
export const NoSigningKeyError = createError('AUTHLAB_NO_SIGNING_KEY', 'No active signing key', 503)
export const IntrospectionClientError = createError(
  'AUTHLAB_INTROSPECTION_CLIENT_UNAUTHENTICATED',
  'Introspection requires client authentication (HTTP Basic)',
  401,
)
export const KeyEncryptionKeyError = createError<[string]>('AUTHLAB_KEY_ENCRYPTION_KEY', '%s', 500)
export const CurrentPasswordInvalidError = createError(
  'AUTHLAB_CURRENT_PASSWORD_INVALID',
  'The current password is wrong',
  // 403, not 401: the caller's token is fine, and a client that treats any 401 as a dead token
  // would log the user out over a typo.
  403,
)
/** Unknown, someone else's or already ended: one answer, so nobody learns another user's ids. */
export const SessionNotFoundError = createError('AUTHLAB_SESSION_NOT_FOUND', 'No such session', 404)
/** Told only after a correct password (see Users.authenticate). */
export const AccountDisabledError = createError('AUTHLAB_ACCOUNT_DISABLED', 'This account is disabled', 403)
export const UserNotFoundError = createError('AUTHLAB_USER_NOT_FOUND', 'No such user', 404)
/** An authenticated caller without the admin role, as Postgres holds it now (not as a token says). */
export const NotAdminError = createError('AUTHLAB_FORBIDDEN', 'This needs the admin role', 403)
export const InvalidRolesError = createError<[string]>('AUTHLAB_INVALID_ROLES', '%s', 400)
/** A login or refresh right after a role change whose cut-off lies too far ahead (clock skew). */
export const IssueDeferredError = createError(
  'AUTHLAB_ISSUE_DEFERRED',
  'A role change is taking effect; retry in a few seconds',
  503,
)
/** An admin may not take their own admin role away, or disable themselves, through the API. */
export const SelfLockoutError = createError(
  'AUTHLAB_SELF_LOCKOUT',
  'An admin cannot withdraw their own admin role or disable themselves here; another admin or the CLI can',
  409,
)
