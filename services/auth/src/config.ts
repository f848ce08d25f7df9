import { JwtEnv, loadConfig, PostgresEnv, RedisEnv, ServerEnv } from '@authlab/config'
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
  /** How often Redis' revocation copies are compared with the Postgres log (and rebuilt if behind). */
  RECONCILE_INTERVAL_MS: Type.Integer({ minimum: 50, default: 1000 }),
  /** PEM (PKCS#8) private key for JWT_ALGORITHM; unset = generate one at first start, kept in Postgres. */
  JWT_PRIVATE_KEY: Type.Optional(Type.String({ minLength: 1 })),
  /** A rotated key is published in the JWKS this long before it signs, so verifiers have it cached. */
  JWT_KEY_PUBLISH_DELAY_S: Type.Integer({ minimum: 0, default: 60 }),
  JWKS_MAX_AGE_S: Type.Integer({ minimum: 0, default: 60 }),
  KEY_RELOAD_INTERVAL_MS: Type.Integer({ minimum: 100, default: 10000 }),
  COOKIE_SECURE: Type.Boolean({ default: false }),
  COOKIE_SAMESITE: Type.Union([Type.Literal('strict'), Type.Literal('lax')], { default: 'strict' }),
  LOGIN_RATE_LIMIT_PER_IP: Type.Integer({ minimum: 1, default: 20 }),
  LOGIN_RATE_LIMIT_PER_ACCOUNT: Type.Integer({ minimum: 1, default: 5 }),
  LOGIN_RATE_LIMIT_WINDOW_S: Type.Integer({ minimum: 1, default: 60 }),
  /** OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane. */
  ARGON2_MEMORY_KIB: Type.Integer({ minimum: 19456, default: 19456 }),
  ARGON2_TIME_COST: Type.Integer({ minimum: 2, default: 2 }),
})

export type AuthConfig = Static<typeof AuthConfigSchema>

export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  return loadConfig(AuthConfigSchema, env)
}
