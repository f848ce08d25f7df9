import { ConfigInvalidError, JwtEnv, loadConfig, PostgresEnv, RedisEnv, ServerEnv } from '@authlab/config'
import { DEV_INTROSPECTION_CLIENT } from '@authlab/contract'
import { type Static, Type } from 'typebox'

export const AuthConfigSchema = Type.Object({
  ...ServerEnv,
  ...RedisEnv,
  ...PostgresEnv,
  ...JwtEnv,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  ACCESS_TOKEN_TTL_S: Type.Integer({ minimum: 1, default: 300 }),
  SESSION_IDLE_TTL_S: Type.Integer({ minimum: 1, default: 1800 }),
  SESSION_ABSOLUTE_TTL_S: Type.Integer({ minimum: 1, default: 28800 }),
  /** Refresh tokens live as long as the login's absolute session lifetime unless set shorter. */
  REFRESH_TOKEN_TTL_S: Type.Integer({ minimum: 1, default: 28800 }),
  /**
   * A refresh token presented again this soon after it was rotated gets the same successor (two
   * tabs refreshing at once); later, it is reuse and revokes the login. 0 turns the grace off.
   */
  REFRESH_REUSE_GRACE_MS: Type.Integer({ minimum: 0, default: 5000 }),
  /**
   * Sessions and revocations are acknowledged only once this many Redis replicas have them (WAIT),
   * so a failover to a replica that has them keeps a fresh login and, on a cluster, keeps a deleted
   * session deleted (revocation keys need no WAIT to be safe: a promoted replica is rebuilt from the
   * Postgres log before anyone trusts it). Unset: 0 standalone, 1 with sentinel or cluster; 0 there
   * is allowed but warned about. When the replicas do not confirm within REDIS_WAIT_TIMEOUT_MS the
   * request fails with 503 and nothing is committed.
   */
  REDIS_WAIT_REPLICAS: Type.Optional(Type.Integer({ minimum: 0 })),
  REDIS_WAIT_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 200 }),
  /** How often Redis' revocation copies are compared with the Postgres log (and rebuilt if behind). */
  RECONCILE_INTERVAL_MS: Type.Integer({ minimum: 50, default: 1000 }),
  /** PEM (PKCS#8) private key for JWT_ALGORITHM; unset = generate one at first start, kept in Postgres. */
  JWT_PRIVATE_KEY: Type.Optional(Type.String({ minLength: 1 })),
  /** A rotated key is published in the JWKS this long before it signs, so verifiers have it cached. */
  JWT_KEY_PUBLISH_DELAY_S: Type.Integer({ minimum: 0, default: 60 }),
  /**
   * Key-encryption key (32 bytes, base64) sealing private signing keys at rest, or a file holding it
   * (a compose/Kubernetes secret). Without either, a development KEK is used and NODE_ENV=production
   * refuses to start.
   */
  KEY_ENCRYPTION_KEY: Type.Optional(Type.String({ minLength: 1 })),
  KEY_ENCRYPTION_KEY_FILE: Type.Optional(Type.String({ minLength: 1 })),
  /** Scheduled rotation: a new key every this many seconds (published JWT_KEY_PUBLISH_DELAY_S first). 0 = off. */
  KEY_ROTATION_INTERVAL_S: Type.Integer({ minimum: 0, default: 0 }),
  JWKS_MAX_AGE_S: Type.Integer({ minimum: 0, default: 60 }),
  KEY_RELOAD_INTERVAL_MS: Type.Integer({ minimum: 100, default: 10000 }),
  COOKIE_SECURE: Type.Boolean({ default: false }),
  COOKIE_SAMESITE: Type.Union([Type.Literal('strict'), Type.Literal('lax')], { default: 'strict' }),
  LOGIN_RATE_LIMIT_PER_IP: Type.Integer({ minimum: 1, default: 20 }),
  /** Failed logins per (account, client IP) per window: stops a guesser on the account it attacks. */
  LOGIN_RATE_LIMIT_PER_ACCOUNT_IP: Type.Integer({ minimum: 1, default: 5 }),
  /** Failed logins per account per window from all addresses: higher, so nobody locks you out cheaply. */
  LOGIN_RATE_LIMIT_PER_ACCOUNT: Type.Integer({ minimum: 1, default: 50 }),
  LOGIN_RATE_LIMIT_WINDOW_S: Type.Integer({ minimum: 1, default: 60 }),
  /**
   * Who may call /auth/introspect (RFC 7662 §2.1): comma-separated `client-id:secret` pairs, each
   * secret at least 16 characters. The default is the development pair; auth logs a warning while
   * it is in use.
   */
  INTROSPECTION_CLIENTS: Type.String({
    pattern: '^[^:,\\s]+:[^,\\s]{16,}(,[^:,\\s]+:[^,\\s]{16,})*$',
    default: `${DEV_INTROSPECTION_CLIENT.id}:${DEV_INTROSPECTION_CLIENT.secret}`,
  }),
  /** Introspections per client per minute, shared by every auth replica (a runaway client's cap). */
  INTROSPECTION_RATE_LIMIT_PER_CLIENT: Type.Integer({ minimum: 1, default: 600000 }),
  /** OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane. */
  ARGON2_MEMORY_KIB: Type.Integer({ minimum: 19456, default: 19456 }),
  ARGON2_TIME_COST: Type.Integer({ minimum: 2, default: 2 }),
  /** Swagger UI at /auth/docs on auth's own port (the gateway does not route it); the native runner turns it on. */
  API_DOCS: Type.Boolean({ default: false }),
})

export type AuthConfig = Static<typeof AuthConfigSchema>

export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const config = loadConfig(AuthConfigSchema, env)
  if (config.ACCESS_TOKEN_TTL_S > config.JWT_MAX_AGE_S) {
    throw new ConfigInvalidError(
      `ACCESS_TOKEN_TTL_S (${config.ACCESS_TOKEN_TTL_S}) exceeds JWT_MAX_AGE_S (${config.JWT_MAX_AGE_S}): verifiers would refuse live tokens`,
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
