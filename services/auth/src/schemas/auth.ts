import type { ErrorBody } from '@authlab/service-kit'
import { type Static, Type } from 'typebox'

export const Credentials = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 254 }),
    // Bounded so a megabyte "password" cannot make argon2 the denial-of-service.
    password: Type.String({ minLength: 8, maxLength: 256 }),
  },
  { additionalProperties: false },
)

export const LoginBody = Type.Object(
  {
    ...Credentials.properties,
    /** Without it the session cookie has no Max-Age and ends with the browser session (OWASP). */
    rememberMe: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

export const UserView = Type.Object({ id: Type.String({ format: 'uuid' }), email: Type.String() })

export const TokenPair = Type.Object({
  accessToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'access token lifetime in seconds' }),
  refreshToken: Type.Optional(
    Type.String({ description: 'absent when the refresh token came in its cookie: it stays there' }),
  ),
})

const BROWSER_CLIENT =
  'absent for a browser (a request with an Origin header): it gets this only as an HttpOnly cookie'

export const LoginResponse = Type.Object({
  ...TokenPair.properties,
  refreshToken: Type.Optional(Type.String({ description: BROWSER_CLIENT })),
  sessionId: Type.Optional(Type.String({ description: BROWSER_CLIENT })),
  user: UserView,
})

export const RefreshBody = Type.Object(
  { refreshToken: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })) },
  { additionalProperties: false },
)

/**
 * RFC 7662 §2.1. Other parameters are ignored rather than refused: the RFC lets a server define
 * extensions, and a client may send some (`resource`, its own `client_id`, …).
 */
export const IntrospectBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 8192 }),
    token_type_hint: Type.Optional(
      Type.String({
        maxLength: 256,
        description:
          'Only a hint (RFC 7662 §2.1): the answer is the same with a wrong or unknown one. A refresh token is answered {"active": false} whatever the hint.',
      }),
    ),
  },
  { additionalProperties: true },
)

export const IntrospectResponse = Type.Object({
  active: Type.Boolean(),
  sub: Type.Optional(Type.String()),
  exp: Type.Optional(Type.Integer()),
  iat: Type.Optional(Type.Integer()),
  iss: Type.Optional(Type.String()),
  aud: Type.Optional(Type.String()),
  jti: Type.Optional(Type.String()),
  sid: Type.Optional(Type.String()),
  roles: Type.Optional(
    Type.Array(Type.String(), { description: "the user's roles as the token or session carries them" }),
  ),
  token_type: Type.Optional(Type.String()),
})

/** Every error answer: the shared ErrorBody (registered by the http plugin), requestId included. */
export const ErrorResponse = Type.Unsafe<Static<typeof ErrorBody>>({ $ref: 'ErrorBody#' })

/**
 * RFC 7009 §2.1. As for introspection, other parameters (a public client's `client_id`, …) are
 * ignored rather than refused, and the hint only orders the lookups.
 */
export const RevokeBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 8192 }),
    token_type_hint: Type.Optional(
      Type.String({
        maxLength: 256,
        description:
          '`access_token`, `refresh_token` or `session`; only a hint (RFC 7009 §2.1): an unknown or wrong one is ignored and every type is searched.',
      }),
    ),
  },
  { additionalProperties: true },
)

/** RFC 6749 §5.2, as RFC 7009 §2.2.1 answers errors; `code` and `requestId` as in every authlab error. */
export const OAuthError = Type.Object(
  {
    error: Type.String({ description: '`invalid_request`, `temporarily_unavailable` or `server_error`' }),
    error_description: Type.String(),
    code: Type.String({ description: 'AUTHLAB_… for authlab errors, FST_… for the framework' }),
    requestId: Type.String({ description: "the gateway's X-Request-Id, or one the service made" }),
  },
  { description: 'an RFC 6749 §5.2 error' },
)

/** The caller's own account. */
export const MeView = Type.Object({
  userId: Type.String({ format: 'uuid' }),
  username: Type.String({ description: 'the email the user registered (and logs in) with' }),
  roles: Type.Array(Type.String()),
})

export const PasswordChangeBody = Type.Object(
  {
    // Bounded like every password, so a megabyte cannot make argon2 the denial of service.
    currentPassword: Type.String({ minLength: 1, maxLength: 256 }),
    newPassword: Credentials.properties.password,
  },
  { additionalProperties: false },
)

/** One of the caller's live logins (GET /auth/sessions): nothing in it is, or leads to, a credential. */
export const SessionView = Type.Object({
  id: Type.String({
    format: 'uuid',
    description:
      "the login's public id (for DELETE /auth/sessions/{id}); not the session id, a token or their `sid`",
  }),
  createdAt: Type.String({ format: 'date-time', description: 'when the login happened' }),
  lastUsedAt: Type.String({
    format: 'date-time',
    description: 'last refresh, session introspection or account request; moved at most once a minute',
  }),
  userAgent: Type.Union([Type.String({ maxLength: 256 }), Type.Null()], {
    description: 'the User-Agent at login, truncated to 256 characters',
  }),
  address: Type.Union([Type.String(), Type.Null()], {
    description: 'the client address at login as the login limits key it: IPv4 whole, IPv6 by /64',
  }),
  current: Type.Boolean({ description: "true for the caller's own login" }),
})

export const SessionList = Type.Object({ sessions: Type.Array(SessionView) })

export const SessionParams = Type.Object({ id: Type.String({ format: 'uuid' }) })

/** A user named by id (the `userId` of GET /auth/me). */
export const UserParams = Type.Object({ userId: Type.String({ format: 'uuid' }) })

export const RolesBody = Type.Object(
  {
    roles: Type.Array(Type.String({ pattern: '^[a-z][a-z0-9_:-]{0,31}$' }), {
      maxItems: 16,
      description: 'the whole new set (it replaces the old one); duplicates are dropped',
    }),
  },
  { additionalProperties: false },
)

export const RolesView = Type.Object({
  userId: Type.String({ format: 'uuid' }),
  roles: Type.Array(Type.String()),
  sessions: Type.Integer({ description: 'live sessions rewritten with the new roles' }),
})

export const DisabledView = Type.Object({
  userId: Type.String({ format: 'uuid' }),
  disabled: Type.Boolean(),
  revoked: Type.Integer({ description: 'logins revoked (0 when enabling)' }),
})
