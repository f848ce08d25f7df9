import { hostname } from 'node:os'
import { INTERNAL_AUDIENCE, REDIS_MODES } from '@authlab/contract'
import { Type } from 'typebox'

// Fragments shared by every service so a variable means the same thing everywhere:
// in the code, the native cluster runner and docker-compose.yml.

/**
 * Names a default that is computed on the machine running the service, in words, for
 * docs/configuration.md: the page must read the same whichever machine generates it. A symbol key,
 * so the validator (which refuses unknown keywords) never sees it.
 */
export const DocumentedDefault = Symbol('authlab.documentedDefault')

export const LogLevel = Type.Union(
  ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
  {
    default: 'info',
    description: 'The lowest level written to the JSON log on stdout; `silent` writes nothing.',
  },
)

export const ServerEnv = {
  HOST: Type.String({
    default: '127.0.0.1',
    description:
      'The address the service listens on; `0.0.0.0` listens on every interface (the container image sets it).',
  }),
  LOG_LEVEL: LogLevel,
  TRUST_PROXY: Type.String({
    default: '127.0.0.1,::1',
    description:
      "The proxies whose X-Forwarded-For is believed, as comma-separated addresses or CIDR ranges: the client address they report is the one rate limits and logs use. The default believes only a proxy on loopback, where the native runner's gateway runs.",
  }),
  BODY_LIMIT_BYTES: Type.Integer({
    minimum: 256,
    default: 16384,
    description: 'The largest request body accepted, in bytes; a larger one is refused with 413.',
  }),
  SHUTDOWN_GRACE_MS: Type.Integer({
    minimum: 0,
    default: 10000,
    description:
      'On SIGTERM or SIGINT the service stops accepting connections and finishes the requests it has; after this many milliseconds it exits anyway.',
  }),
  REPLICA_ID: Type.String({
    minLength: 1,
    default: hostname(),
    [DocumentedDefault]: 'the host name',
    description:
      "Names this process in its log lines and metrics (the `replica` label) and, on orders and profile, in the x-replica header (see EXPOSE_REPLICA). docker-compose.yml leaves it unset, so each container's host name is used.",
  }),
}

export const RedisEnv = {
  REDIS_URL: Type.String({
    default: 'redis://127.0.0.1:6379',
    description:
      "`redis://` or `rediss://` (TLS) URL with the service's Redis user and password, which every mode uses. In standalone mode it is also the server; in cluster mode its host is the seed node when REDIS_CLUSTER_NODES is empty.",
  }),
  REDIS_MODE: Type.Union(
    REDIS_MODES.map((mode) => Type.Literal(mode)),
    {
      default: 'standalone',
      description:
        "How Redis is deployed: `standalone` is REDIS_URL's server; `sentinel` asks REDIS_SENTINELS for the primary named REDIS_SENTINEL_NAME; `cluster` is a Redis Cluster found from REDIS_CLUSTER_NODES.",
    },
  ),
  REDIS_SENTINELS: Type.String({
    default: '',
    description: 'Sentinel mode, where it is required: the sentinels, as comma-separated `host:port`.',
  }),
  REDIS_SENTINEL_NAME: Type.String({
    default: 'authlab',
    description: 'Sentinel mode: the name the sentinels know the primary by.',
  }),
  REDIS_SENTINEL_PASSWORD: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        "Sentinel mode: the sentinels' own password, when they require one (`requirepass` in sentinel.conf). Unset: none is sent.",
    }),
  ),
  REDIS_CLUSTER_NODES: Type.String({
    default: '',
    description:
      "Cluster mode: seed nodes as comma-separated `host:port` (any reachable node finds the rest). Empty: REDIS_URL's host and port.",
  }),
  REDIS_COMMAND_TIMEOUT_MS: Type.Integer({
    minimum: 10,
    default: 500,
    description:
      'A Redis command unanswered for this many milliseconds fails, and its request fails closed with 503, whether Redis is down, hung or only slow.',
  }),
}

export const PostgresEnv = {
  DATABASE_URL: Type.String({
    default: 'postgres://authlab:authlab@127.0.0.1:5432/authlab',
    description:
      '`postgres://` URL of the role auth runs as; with DATABASE_MIGRATION_URL set, that role gets row access only. The default is the development database.',
  }),
  DATABASE_MIGRATION_URL: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        "`postgres://` URL of the schema owner, used only at start to migrate and to grant DATABASE_URL's role row access. Unset: DATABASE_URL's role does both, fit for development only (auth logs a warning).",
    }),
  ),
  PG_POOL_MAX: Type.Integer({
    minimum: 1,
    default: 10,
    description: 'The most Postgres connections each auth process holds open.',
  }),
  PG_CONNECT_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    default: 2000,
    description:
      'How long, in milliseconds, a request waits for a Postgres connection (pool exhausted or database unreachable) before it fails with 503 instead of hanging.',
  }),
  PG_STATEMENT_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    default: 5000,
    description:
      'Postgres cancels a statement that runs longer than this many milliseconds (`statement_timeout`), and its request fails.',
  }),
}

export const JwtAlgorithm = Type.Union(
  [Type.Literal('EdDSA'), Type.Literal('ES256'), Type.Literal('RS256')],
  {
    default: 'EdDSA',
    description:
      'The signature algorithm of access tokens: auth signs with it (generating a key of that type if it has none) and verifiers accept no other.',
  },
)

export const JwtEnv = {
  JWT_ISSUER: Type.String({
    minLength: 1,
    default: 'authlab',
    description:
      'The `iss` claim auth puts in access tokens and every verifier requires; set it alike everywhere.',
  }),
  JWT_AUDIENCE: Type.String({
    minLength: 1,
    default: 'authlab-api',
    description:
      'The `aud` claim auth puts in access tokens and every verifier requires; set it alike everywhere.',
  }),
  JWT_INTERNAL_AUDIENCE: Type.String({
    minLength: 1,
    default: INTERNAL_AUDIENCE,
    description:
      "The `aud` claim of the short-lived internal tokens auth's phantom exchange (GET /auth/exchange) signs for the gateway to pass on; only the `phantom` mode accepts it, and it accepts no other. Must differ from JWT_AUDIENCE; set it alike on auth, orders and profile.",
  }),
  JWT_ALGORITHM: JwtAlgorithm,
  // Small and bounded, as RFC 8725 §3.10 asks: every second of it is a second a dead token lives on.
  JWT_CLOCK_TOLERANCE_S: Type.Integer({
    minimum: 0,
    maximum: 60,
    default: 5,
    description:
      "Seconds of leeway on a token's `exp`, `iat` and `nbf` for clocks that disagree between machines. Revocation entries live until the latest `exp` the login was issued plus twice this, so a token cannot outlive its entry on a verifier whose clock lags.",
  }),
  JWT_MAX_AGE_S: Type.Integer({
    minimum: 1,
    default: 3600,
    description:
      'A token issued (`iat`) more than this many seconds ago is refused whatever its `exp` says; auth refuses to start with an ACCESS_TOKEN_TTL_S longer than this.',
  }),
}
