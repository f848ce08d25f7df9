import { JwtEnv, loadConfig, RedisEnv, ServerEnv } from '@authlab/config'
import { DEV_INTROSPECTION_CLIENT } from '@authlab/contract'
import { type Static, Type } from 'typebox'

export const DownstreamConfigSchema = Type.Object({
  ...ServerEnv,
  ...RedisEnv,
  ...JwtEnv,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3001 }),
  /** x-replica header and `replica` field on answers: on for the demo, off to keep topology private. */
  EXPOSE_REPLICA: Type.Boolean({ default: true }),
  AUTH_URL: Type.String({ default: 'http://127.0.0.1:3000' }),
  /** Defaults to AUTH_URL + /.well-known/jwks.json */
  JWKS_URL: Type.Optional(Type.String()),
  /** How often the JWKS is refetched; a key withdrawn from it stops verifying within this. */
  JWKS_REFRESH_MS: Type.Integer({ minimum: 100, default: 60000 }),
  COOKIE_SECURE: Type.Boolean({ default: false }),
  /** Must match auth's: `session` slides the idle timeout on every use. */
  SESSION_IDLE_TTL_S: Type.Integer({ minimum: 1, default: 1800 }),
  /** fast-jwt's cache of verified tokens (per replica; entries end at the token's exp). 0 = off. */
  JWT_VERIFY_CACHE_SIZE: Type.Integer({ minimum: 0, default: 1000 }),
  SESSION_CACHE_TTL_MS: Type.Integer({ minimum: 1, default: 2000 }),
  SESSION_CACHE_MAX_ENTRIES: Type.Integer({ minimum: 1, default: 100000 }),
  /** jwt-pushed serves from its local set for at most this long without a confirmed feed, then 503. */
  PUSHED_MAX_STALENESS_MS: Type.Integer({ minimum: 1, default: 2000 }),
  /** jwt-denylist fails closed (503) when Redis is down unless this is true. */
  DENYLIST_FAIL_OPEN: Type.Boolean({ default: false }),
  INTROSPECT_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 1000 }),
  /** This service's introspection client at auth (one of auth's INTROSPECTION_CLIENTS). */
  INTROSPECTION_CLIENT_ID: Type.String({ minLength: 1, default: DEV_INTROSPECTION_CLIENT.id }),
  INTROSPECTION_CLIENT_SECRET: Type.String({ minLength: 16, default: DEV_INTROSPECTION_CLIENT.secret }),
})

export type DownstreamConfig = Static<typeof DownstreamConfigSchema>

export function loadDownstreamConfig(env: NodeJS.ProcessEnv = process.env): DownstreamConfig {
  return loadConfig(DownstreamConfigSchema, env)
}
