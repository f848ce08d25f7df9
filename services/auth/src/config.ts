import { DEV_INTROSPECTION_CLIENT } from '@authlab/contract'
import {
  ConfigInvalidError,
  JwtEnv,
  loadConfig,
  PostgresEnv,
  RedisEnv,
  ServerEnv,
} from '@authlab/service-kit'
import { type Static, Type } from 'typebox'
import { loadKeks } from './plugins/app/key-seal.ts'

// Read by the migrate command only (src/cli/migrate.ts); the auth server refuses to start with it.
const DATABASE_MIGRATION_URL = Type.Optional(
  Type.String({
    minLength: 1,
    description:
      "`postgres://` URL of the schema owner, read only by the one-shot migrate command (`pnpm --filter @authlab/auth migrate`, which docker-compose.yml, the Kubernetes init container and the native runner run before auth): it applies the migrations, grants DATABASE_URL's role row access, and exits. The auth server refuses to start with it set, so the owner's password never sits in the running process; it checks that the schema has every migration instead. Unset: the migrate command migrates as DATABASE_URL's role, which then owns the schema, fit for development only.",
  }),
)

export const AuthConfigSchema = Type.Object({
  ...ServerEnv,
  ...RedisEnv,
  ...PostgresEnv,
  DATABASE_MIGRATION_URL,
  ...JwtEnv,
  PORT: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 3000,
    description: 'The TCP port the service listens on; 0 lets the system pick a free one.',
  }),
  ACCESS_TOKEN_TTL_S: Type.Integer({
    minimum: 1,
    default: 300,
    description:
      'How long an access token (JWT) is valid, in seconds: its `exp` is this long after it is issued. At most JWT_MAX_AGE_S.',
  }),
  SESSION_IDLE_TTL_S: Type.Integer({
    minimum: 1,
    default: 1800,
    description:
      "A session (the `sid` cookie) ends after this many seconds unused; every lookup by orders' or profile's session modes restarts the count. Set it alike on auth, orders and profile.",
  }),
  SESSION_ABSOLUTE_TTL_S: Type.Integer({
    minimum: 1,
    default: 28800,
    description:
      'A login ends this many seconds after it began, however active: its session and its refresh tokens with it. Also the Max-Age of the session cookie of a login that asked to be remembered.',
  }),
  REFRESH_TOKEN_TTL_S: Type.Integer({
    minimum: 1,
    default: 28800,
    description:
      "A login's refresh tokens stop working this many seconds after the login (a rotated token keeps its predecessor's expiry), and never after SESSION_ABSOLUTE_TTL_S. Also the refresh cookie's Max-Age.",
  }),
  REFRESH_REUSE_GRACE_MS: Type.Integer({
    minimum: 0,
    default: 5000,
    description:
      'A refresh token presented again within this many milliseconds of its rotation gets the same successor (two tabs refreshing at once); later, that is reuse, and it revokes the whole login. 0 treats every second presentation as reuse.',
  }),
  // Revocation keys need no WAIT to be safe: a promoted replica is rebuilt from the Postgres log
  // before anyone trusts it. Sessions have no such log, hence WAIT for them.
  REDIS_WAIT_REPLICAS: Type.Optional(
    Type.Integer({
      minimum: 0,
      description:
        'Sessions and revocations are acknowledged only once this many Redis replicas have them (WAIT), so a failover keeps a fresh login and a deleted session deleted; if they do not confirm within REDIS_WAIT_TIMEOUT_MS, the request fails with 503 and nothing is committed. Unset: 0 in standalone mode, 1 with sentinel or cluster (where 0 is allowed, with a warning).',
    }),
  ),
  REDIS_WAIT_TIMEOUT_MS: Type.Integer({
    minimum: 1,
    default: 200,
    description:
      'How long, in milliseconds, a write waits for REDIS_WAIT_REPLICAS replicas to confirm it. Must be below REDIS_COMMAND_TIMEOUT_MS.',
  }),
  RECONCILE_INTERVAL_MS: Type.Integer({
    minimum: 50,
    default: 1000,
    description:
      "How often, in milliseconds, Redis' copies of the revocations are compared with the Postgres log, and rebuilt if they are behind (after a Redis restart or failover).",
  }),
  JWT_PRIVATE_KEY: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'A PEM (PKCS#8) private key of JWT_ALGORITHM to sign with, added at start to the keys auth keeps in Postgres. Unset: auth generates one at first start and keeps it there.',
    }),
  ),
  JWT_KEY_PUBLISH_DELAY_S: Type.Integer({
    minimum: 0,
    default: 60,
    description:
      'A rotated-in signing key is published in the JWKS this many seconds before it signs, so verifiers already have it when its first token arrives.',
  }),
  NODE_ENV: Type.String({
    minLength: 1,
    default: 'development',
    description:
      "`production` (the images set it) refuses to start with a development key-encryption key, the built-in one or compose's `dev-only-…` default, naming KEY_ENCRYPTION_KEY and KEY_ENCRYPTION_KEY_FILE; any other value is development, where they are used with a warning. docker-compose.yml and the local Kubernetes overlay set `development` for their development defaults.",
  }),
  KEY_ENCRYPTION_KEY: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        "The key-encryption key sealing the private signing keys in Postgres (AES-256-GCM): 32 bytes, base64. Unset, and no KEY_ENCRYPTION_KEY_FILE: a built-in development key. NODE_ENV=production refuses that one and compose's `dev-only-…` default.",
    }),
  ),
  KEY_ENCRYPTION_KEY_FILE: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'A file holding KEY_ENCRYPTION_KEY (a compose or Kubernetes secret); when set, it is used instead of KEY_ENCRYPTION_KEY.',
    }),
  ),
  KEY_ENCRYPTION_KEY_PREVIOUS: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'Rotating the key-encryption key: the one KEY_ENCRYPTION_KEY replaces (32 bytes, base64; a development key is allowed here). At start, auth re-seals every signing key still sealed under it under KEY_ENCRYPTION_KEY, in one transaction; once every replica has started so, remove it. A key that opens under neither stops auth at start.',
    }),
  ),
  KEY_ENCRYPTION_KEY_PREVIOUS_FILE: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'A file holding KEY_ENCRYPTION_KEY_PREVIOUS (a compose or Kubernetes secret); when set, it is used instead of KEY_ENCRYPTION_KEY_PREVIOUS.',
    }),
  ),
  KEY_ROTATION_INTERVAL_S: Type.Integer({
    minimum: 0,
    default: 0,
    description:
      'Scheduled rotation: a new signing key every this many seconds, published JWT_KEY_PUBLISH_DELAY_S before it signs (so it must be longer than that). 0 turns scheduled rotation off.',
  }),
  JWKS_MAX_AGE_S: Type.Integer({
    minimum: 0,
    default: 60,
    description:
      'The Cache-Control max-age of /.well-known/jwks.json, in seconds: how long clients and caches may keep the key set without asking again. 0 makes them ask every time.',
  }),
  KEY_RELOAD_INTERVAL_MS: Type.Integer({
    minimum: 100,
    default: 10000,
    description:
      'How often, in milliseconds, each auth process reloads the signing keys from Postgres (picking up rotations by other replicas or the rotate-key command) and makes a scheduled rotation that is due.',
  }),
  COOKIE_SECURE: Type.Boolean({
    default: false,
    description:
      'Makes the cookies `Secure`, with the `__Host-`/`__Secure-` name prefixes: turn it on behind HTTPS. auth sets the cookies and orders and profile read them by these names, so set it alike on all three.',
  }),
  COOKIE_SAMESITE: Type.Union([Type.Literal('strict'), Type.Literal('lax')], {
    default: 'strict',
    description: "The SameSite attribute of auth's cookies.",
  }),
  LOGIN_RATE_LIMIT_PER_IP: Type.Integer({
    minimum: 1,
    default: 20,
    description:
      'Login and register attempts per client address (IPv6: per /64) per LOGIN_RATE_LIMIT_WINDOW_S, counted across every auth replica; beyond it, 429.',
  }),
  LOGIN_RATE_LIMIT_PER_ACCOUNT_IP: Type.Integer({
    minimum: 1,
    default: 5,
    description:
      'Failed logins per account and client address per window: stops a guesser on the account it attacks. A successful login from that address clears its count.',
  }),
  LOGIN_RATE_LIMIT_PER_ACCOUNT: Type.Integer({
    minimum: 1,
    default: 50,
    description:
      'Failed logins per account per window from all addresses together. Past it, an address that has failed on the account waits for the window while one that has not is still judged, so failures from elsewhere never lock the owner out.',
  }),
  LOGIN_RATE_LIMIT_WINDOW_S: Type.Integer({
    minimum: 1,
    default: 60,
    description: 'The window, in seconds, of the three login rate limits and of REVOKE_RATE_LIMIT_PER_IP.',
  }),
  REVOKE_RATE_LIMIT_PER_IP: Type.Integer({
    minimum: 1,
    default: 300,
    description:
      'RFC 7009 revocations (POST /auth/revoke, unauthenticated) per client address (IPv6: per /64) per LOGIN_RATE_LIMIT_WINDOW_S, counted across every auth replica; beyond it, 429 `temporarily_unavailable` with Retry-After. Generous: a client revokes once per logout.',
  }),
  INTROSPECTION_CLIENTS: Type.String({
    pattern: '^[^:,\\s]+:[^,\\s]{16,}(,[^:,\\s]+:[^,\\s]{16,})*$',
    default: `${DEV_INTROSPECTION_CLIENT.id}:${DEV_INTROSPECTION_CLIENT.secret}`,
    description:
      'Who may call /auth/introspect (RFC 7662 §2.1): comma-separated `client-id:secret` pairs, each secret at least 16 characters. The default is the development pair; auth logs a warning while it is in use.',
  }),
  INTROSPECTION_RATE_LIMIT_PER_CLIENT: Type.Integer({
    minimum: 1,
    default: 600000,
    description:
      "Introspections per client per minute, counted across every auth replica: a runaway client's cap; beyond it, 429.",
  }),
  INTROSPECTION_AUTH_FAILURES_PER_CLIENT: Type.Integer({
    minimum: 1,
    default: 10,
    description:
      'Failed client authentications on /auth/introspect per presented client id per minute, from all addresses, counted across every auth replica (unknown ids share one count). Past it, an address that has failed on that id in the minute gets 429, right secret or not; one that has not is still judged, so failures elsewhere never lock the client out.',
  }),
  INTROSPECTION_AUTH_FAILURES_PER_IP: Type.Integer({
    minimum: 1,
    default: 20,
    description:
      "Failed client authentications on /auth/introspect per caller address per minute (the connection's own address, IPv6 per /64, never X-Forwarded-For), whatever client ids it presented. Past it, that address gets 429 for every client id it has failed on in the minute, right secret or not.",
  }),
  ARGON2_MEMORY_KIB: Type.Integer({
    minimum: 19456,
    default: 19456,
    description:
      "Memory of each argon2id password hash, in KiB; at least 19456 (19 MiB), OWASP's minimum. Applies to passwords hashed from then on: a stored hash keeps its own parameters.",
  }),
  ARGON2_TIME_COST: Type.Integer({
    minimum: 2,
    default: 2,
    description:
      "Passes of each argon2id password hash; at least 2, OWASP's minimum at 19 MiB. Applies to passwords hashed from then on.",
  }),
  PHANTOM_CACHE_TTL_MS: Type.Integer({
    minimum: 0,
    maximum: 60000,
    default: 1000,
    description:
      "`phantom` mode: how long, in milliseconds, the gateway may reuse an exchange (GET /auth/exchange, a session swapped for an internal token) for the same credential; a logged-out session or a withdrawn role keeps working there for up to this long, measured from auth's session check. Sent to nginx as an absolute `X-Accel-Expires` rounded down to the second before it, since nginx's cache counts whole seconds. 0: the gateway exchanges on every request. The internal token lives this long rounded up to the second, plus 5 s.",
  }),
  API_DOCS: Type.Boolean({
    default: false,
    description:
      "Serves Swagger UI at /auth/docs on auth's own port (the gateway does not route it); the native runner turns it on.",
  }),
})

export type AuthConfig = Static<typeof AuthConfigSchema>

/**
 * The internal token outlives the longest the gateway may serve it from its cache (whole seconds,
 * rounded up) by a margin for the trip to the replica and clocks that disagree a little.
 */
const PHANTOM_TOKEN_MARGIN_S = 5
export const phantomTokenTtlS = (config: Pick<AuthConfig, 'PHANTOM_CACHE_TTL_MS'>) =>
  Math.ceil(config.PHANTOM_CACHE_TTL_MS / 1000) + PHANTOM_TOKEN_MARGIN_S

export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const config = loadConfig(AuthConfigSchema, env)
  if (config.DATABASE_MIGRATION_URL !== undefined) {
    throw new ConfigInvalidError(
      "DATABASE_MIGRATION_URL is set: only the migrate command reads it (pnpm --filter @authlab/auth migrate, run before auth). Remove it from auth's environment: the schema owner's password must not sit in the running service",
    )
  }
  // The key-encryption keys, read and checked now (NODE_ENV=production refuses a development
  // one) rather than after the stores are connected.
  loadKeks(config)
  if (config.ACCESS_TOKEN_TTL_S > config.JWT_MAX_AGE_S) {
    throw new ConfigInvalidError(
      `ACCESS_TOKEN_TTL_S (${config.ACCESS_TOKEN_TTL_S}) exceeds JWT_MAX_AGE_S (${config.JWT_MAX_AGE_S}): verifiers would refuse live tokens`,
    )
  }
  if (config.JWT_INTERNAL_AUDIENCE === config.JWT_AUDIENCE) {
    throw new ConfigInvalidError(
      "JWT_INTERNAL_AUDIENCE equals JWT_AUDIENCE: the phantom exchange's internal tokens would pass for access tokens and the other way round",
    )
  }
  if (
    config.KEY_ROTATION_INTERVAL_S > 0 &&
    config.KEY_ROTATION_INTERVAL_S <= config.JWT_KEY_PUBLISH_DELAY_S
  ) {
    throw new ConfigInvalidError(
      `KEY_ROTATION_INTERVAL_S (${config.KEY_ROTATION_INTERVAL_S}) must exceed JWT_KEY_PUBLISH_DELAY_S (${config.JWT_KEY_PUBLISH_DELAY_S})`,
    )
  }
  if (config.REDIS_WAIT_TIMEOUT_MS >= config.REDIS_COMMAND_TIMEOUT_MS) {
    throw new ConfigInvalidError(
      `REDIS_WAIT_TIMEOUT_MS (${config.REDIS_WAIT_TIMEOUT_MS}) must be below REDIS_COMMAND_TIMEOUT_MS (${config.REDIS_COMMAND_TIMEOUT_MS}): the command would time out first`,
    )
  }
  config.REDIS_WAIT_REPLICAS ??= config.REDIS_MODE === 'standalone' ? 0 : 1
  return config
}

/** What the migrate command reads: the schema owner, the runtime role to grant, the timeouts. */
export const MigrateConfigSchema = Type.Object({
  DATABASE_URL: PostgresEnv.DATABASE_URL,
  DATABASE_MIGRATION_URL,
  PG_CONNECT_TIMEOUT_MS: PostgresEnv.PG_CONNECT_TIMEOUT_MS,
  PG_STATEMENT_TIMEOUT_MS: PostgresEnv.PG_STATEMENT_TIMEOUT_MS,
})

export type MigrateConfig = Static<typeof MigrateConfigSchema>

export function loadMigrateConfig(env: NodeJS.ProcessEnv = process.env): MigrateConfig {
  return loadConfig(MigrateConfigSchema, env)
}
