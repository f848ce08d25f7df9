import { hostname } from 'node:os'
import { Type } from 'typebox'

// Fragments shared by every service so a variable means the same thing everywhere:
// in the code, the native cluster runner and docker-compose.yml.

export const LogLevel = Type.Union(
  ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
  { default: 'info' },
)

export const ServerEnv = {
  HOST: Type.String({ default: '127.0.0.1' }),
  LOG_LEVEL: LogLevel,
  /** Which proxies' X-Forwarded-For to believe: nginx runs on loopback natively. */
  TRUST_PROXY: Type.String({ default: '127.0.0.1,::1' }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 256, default: 16384 }),
  /** Grace period for in-flight requests on SIGTERM before the process exits anyway. */
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 0, default: 10000 }),
  /** Names this process in logs and metrics (and downstream's x-replica); compose leaves it unset and the container hostname is used. */
  REPLICA_ID: Type.String({ minLength: 1, default: hostname() }),
}

export const RedisEnv = {
  /** Credentials for every topology, and the server itself in standalone mode. */
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379' }),
  /** standalone: REDIS_URL's server; sentinel: the primary the sentinels name; cluster: a Redis Cluster. */
  REDIS_MODE: Type.Union([Type.Literal('standalone'), Type.Literal('sentinel'), Type.Literal('cluster')], {
    default: 'standalone',
  }),
  /** Sentinel mode: `host:port,host:port` of the sentinels, and the name they know the primary by. */
  REDIS_SENTINELS: Type.String({ default: '' }),
  REDIS_SENTINEL_NAME: Type.String({ default: 'authlab' }),
  /** The sentinels' own password, when they require one (`requirepass` in sentinel.conf). */
  REDIS_SENTINEL_PASSWORD: Type.Optional(Type.String({ minLength: 1 })),
  /** Cluster mode: `host:port,…` seed nodes; empty means REDIS_URL's host. */
  REDIS_CLUSTER_NODES: Type.String({ default: '' }),
  /** A command waits at most this long for Redis before the request fails closed with 503. */
  REDIS_COMMAND_TIMEOUT_MS: Type.Integer({ minimum: 10, default: 500 }),
}

export const PostgresEnv = {
  DATABASE_URL: Type.String({ default: 'postgres://authlab:authlab@127.0.0.1:5432/authlab' }),
  /**
   * The schema owner, used only at start to migrate and to grant DATABASE_URL's role row access.
   * Unset: DATABASE_URL's role does both (development).
   */
  DATABASE_MIGRATION_URL: Type.Optional(Type.String({ minLength: 1 })),
  PG_POOL_MAX: Type.Integer({ minimum: 1, default: 10 }),
  /** An exhausted or unreachable database answers 503 after this, instead of hanging. */
  PG_CONNECT_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 2000 }),
  PG_STATEMENT_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 5000 }),
}

export const JwtAlgorithm = Type.Union(
  [Type.Literal('EdDSA'), Type.Literal('ES256'), Type.Literal('RS256')],
  {
    default: 'EdDSA',
  },
)

export const JwtEnv = {
  JWT_ISSUER: Type.String({ minLength: 1, default: 'authlab' }),
  JWT_AUDIENCE: Type.String({ minLength: 1, default: 'authlab-api' }),
  JWT_ALGORITHM: JwtAlgorithm,
  /**
   * Leeway for exp/iat/nbf between machines' clocks (RFC 8725 §3.10 asks for a small one). Deny
   * entries live this much longer than the tokens they deny, so a slow clock cannot outlive one.
   */
  JWT_CLOCK_TOLERANCE_S: Type.Integer({ minimum: 0, maximum: 60, default: 5 }),
  /** A token issued longer ago than this is refused whatever its exp says; auth's TTL must fit. */
  JWT_MAX_AGE_S: Type.Integer({ minimum: 1, default: 3600 }),
}
