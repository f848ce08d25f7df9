import { after, before, type TestContext } from 'node:test'
import { basicAuthorization, DEV_INTROSPECTION_CLIENT } from '@authlab/contract'
import { type PostgresServer, type RedisServer, startPostgres, startRedis } from '@authlab/servers'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildApp } from '../src/app.ts'
import { type AuthConfig, loadAuthConfig, loadMigrateConfig } from '../src/config.ts'
import { migrateDatabase } from '../src/plugins/app/migrations.ts'

export interface Stores {
  redis: RedisServer
  postgres: PostgresServer
}

/** Real redis-server and postgres processes for one test file, removed when it ends. */
export async function startStores(): Promise<Stores> {
  const [redis, postgres] = await Promise.all([startRedis(), startPostgres()])
  // The testcontainers run must really run in containers, not quietly fall back to native servers.
  if (
    process.env.AUTHLAB_SERVERS === 'containers' &&
    (redis.kind !== 'container' || postgres.kind !== 'container')
  ) {
    throw new Error(`AUTHLAB_SERVERS=containers but got redis ${redis.kind}, postgres ${postgres.kind}`)
  }
  return { redis, postgres }
}

export async function stopStores(stores: Stores): Promise<void> {
  await Promise.all([stores.redis.close(), stores.postgres.close()])
}

/** Stores shared by the tests of one file: started before the first test, removed after the last. */
export function sharedStores(): () => Stores {
  let stores: Stores | undefined
  before(async () => {
    stores = await startStores()
  })
  after(() => (stores ? stopStores(stores) : undefined))
  return () => {
    if (!stores) throw new Error('stores are not started yet')
    return stores
  }
}

export function testConfig(stores: Stores, env: NodeJS.ProcessEnv = {}): AuthConfig {
  return loadAuthConfig({
    REDIS_URL: stores.redis.urlFor('auth'),
    DATABASE_URL: stores.postgres.url,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Most tests log in far more often than a person would; the brute-force test sets its own.
    LOGIN_RATE_LIMIT_PER_IP: '10000',
    LOGIN_RATE_LIMIT_PER_ACCOUNT: '10000',
    LOGIN_RATE_LIMIT_PER_ACCOUNT_IP: '10000',
    PG_CONNECT_TIMEOUT_MS: '500',
    REDIS_COMMAND_TIMEOUT_MS: '300',
    ...env,
  })
}

/**
 * An auth app on the given stores, ready, and closed when the test ends. As compose and the native
 * runner do, the migrate command's work comes first (as the owner when `env` names
 * DATABASE_MIGRATION_URL, which then goes to the migration only: auth refuses to hold it).
 */
export async function build(
  t: TestContext,
  stores: Stores,
  env: NodeJS.ProcessEnv = {},
): Promise<FastifyInstance> {
  const { DATABASE_MIGRATION_URL, ...authEnv } = env
  const config = testConfig(stores, authEnv)
  await migrateDatabase(
    loadMigrateConfig({
      DATABASE_URL: config.DATABASE_URL,
      PG_CONNECT_TIMEOUT_MS: String(config.PG_CONNECT_TIMEOUT_MS),
      ...(DATABASE_MIGRATION_URL ? { DATABASE_MIGRATION_URL } : {}),
    }),
  )
  const app = await buildApp(config)
  t.after(() => app.close())
  await app.ready()
  return app
}

let counter = 0
export function uniqueEmail(): string {
  counter += 1
  return `user${counter}-${process.pid}-${Date.now()}@example.test`
}

export const PASSWORD = 'correct horse battery staple'

export interface LoggedIn {
  email: string
  userId: string
  // biome-ignore lint/suspicious/noExplicitAny: the login body, checked by the tests that read it
  login: any
  cookies: LightMyRequestResponse['cookies']
}

export async function registerAndLogin(app: FastifyInstance, email = uniqueEmail()): Promise<LoggedIn> {
  const reg = await app.inject({
    method: 'POST',
    url: '/auth/register',
    payload: { email, password: PASSWORD },
  })
  if (reg.statusCode !== 201) throw new Error(`register: ${reg.statusCode} ${reg.body}`)
  const res = await app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: PASSWORD } })
  if (res.statusCode !== 200) throw new Error(`login: ${res.statusCode} ${res.body}`)
  return { email, userId: reg.json().id as string, login: res.json(), cookies: res.cookies }
}

/** The development introspection client's Authorization header (auth's default client list). */
export const INTROSPECTION_CLIENT = basicAuthorization(
  DEV_INTROSPECTION_CLIENT.id,
  DEV_INTROSPECTION_CLIENT.secret,
)

/** RFC 7662 as a downstream service calls it: form-urlencoded, as an authenticated client. */
export async function introspect(app: FastifyInstance, token: string): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/auth/introspect',
    headers: { authorization: INTROSPECTION_CLIENT, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ token }).toString(),
  })
}

/** Bounded wait until the app's revocation reader trusts Redis again (after a restart or loss). */
export async function untilRevocationsReady(app: FastifyInstance, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await app.revocationReader.check()) return true
    await new Promise((r) => setTimeout(r, 50))
  }
  return false
}
