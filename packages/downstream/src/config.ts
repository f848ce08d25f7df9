import { DEV_INTROSPECTION_CLIENT } from '@authlab/contract'
import { JwtEnv, loadConfig, RedisEnv, ServerEnv } from '@authlab/service-kit'
import { type Static, Type } from 'typebox'

export const DownstreamConfigSchema = Type.Object({
  ...ServerEnv,
  ...RedisEnv,
  ...JwtEnv,
  PORT: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 3001,
    description: 'The TCP port the service listens on; 0 lets the system pick a free one.',
  }),
  EXPOSE_REPLICA: Type.Boolean({
    default: true,
    description:
      'Adds the x-replica header and a `replica` field to answers, naming the replica that answered (REPLICA_ID), as the demo shows; `false` keeps the topology private.',
  }),
  AUTH_URL: Type.String({
    default: 'http://127.0.0.1:3000',
    description: "auth's base URL, for the `introspect` mode and, unless JWKS_URL is set, the JWKS.",
  }),
  JWKS_URL: Type.Optional(
    Type.String({
      description:
        "Where auth's public keys (the JWKS) are fetched from. Unset: AUTH_URL + `/.well-known/jwks.json`.",
    }),
  ),
  JWKS_REFRESH_MS: Type.Integer({
    minimum: 100,
    default: 60000,
    description:
      'How often, in milliseconds, the JWKS is fetched again; a key withdrawn from it stops verifying within this.',
  }),
  COOKIE_SECURE: Type.Boolean({
    default: false,
    description:
      'Makes the cookies `Secure`, with the `__Host-`/`__Secure-` name prefixes: turn it on behind HTTPS. auth sets the cookies and orders and profile read them by these names, so set it alike on all three.',
  }),
  SESSION_IDLE_TTL_S: Type.Integer({
    minimum: 1,
    default: 1800,
    description:
      "A session (the `sid` cookie) ends after this many seconds unused; every lookup by orders' or profile's session modes restarts the count. Set it alike on auth, orders and profile.",
  }),
  JWT_VERIFY_CACHE_SIZE: Type.Integer({
    minimum: 0,
    default: 1000,
    description:
      "How many verified tokens each process keeps (fast-jwt's cache; an entry ends at its token's `exp`), sparing their signature check; revocation checks still run on every request. 0 turns the cache off.",
  }),
  SESSION_CACHE_TTL_MS: Type.Integer({
    minimum: 1,
    default: 2000,
    description:
      '`session-cached` mode: how long, in milliseconds, a process reuses a session it looked up; a revoked session keeps working there for up to this long.',
  }),
  SESSION_CACHE_MAX_ENTRIES: Type.Integer({
    minimum: 1,
    default: 100000,
    description:
      '`session-cached` mode: the most sessions each process keeps; the oldest makes way for a new one.',
  }),
  PUSHED_MAX_STALENESS_MS: Type.Integer({
    minimum: 1,
    default: 2000,
    description:
      '`jwt-pushed` mode: how long, in milliseconds, a process answers from its local revocation set without a confirmed feed from Redis before it fails closed with 503.',
  }),
  DENYLIST_FAIL_OPEN: Type.Boolean({
    default: false,
    description:
      '`jwt-denylist` mode with Redis unreachable: `false` answers 503; `true` accepts validly signed tokens unchecked (never while Redis answers but its revocation copies are incomplete).',
  }),
  INTROSPECT_TIMEOUT_MS: Type.Integer({
    minimum: 1,
    default: 1000,
    description:
      '`introspect` mode: how long, in milliseconds, to wait for auth (to connect, then for its answer) before failing with 503.',
  }),
  INTROSPECTION_CLIENT_ID: Type.String({
    minLength: 1,
    default: DEV_INTROSPECTION_CLIENT.id,
    description:
      "This service's introspection client at auth: the id of one of auth's INTROSPECTION_CLIENTS. The default is the development client.",
  }),
  INTROSPECTION_CLIENT_SECRET: Type.String({
    minLength: 16,
    default: DEV_INTROSPECTION_CLIENT.secret,
    description:
      "That client's secret, as auth's INTROSPECTION_CLIENTS has it. The default is the development secret.",
  }),
})

export type DownstreamConfig = Static<typeof DownstreamConfigSchema>

export function loadDownstreamConfig(env: NodeJS.ProcessEnv = process.env): DownstreamConfig {
  return loadConfig(DownstreamConfigSchema, env)
}
