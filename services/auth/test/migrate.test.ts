import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { buildApp } from '../src/app.ts'
import { type AuthConfig, loadAuthConfig } from '../src/config.ts'
import { MIGRATIONS_DIR, migrate } from '../src/plugins/app/migrations.ts'
import { introspect, registerAndLogin, type Stores, startStores, stopStores, testConfig } from './helper.ts'

// Migrating is its own one-shot step (src/cli/migrate.ts), run as the schema owner before auth
// starts; auth never gets DATABASE_MIGRATION_URL and refuses to start on an unmigrated schema.

const MIGRATE = join(import.meta.dirname, '../src/cli/migrate.ts')
const SERVER = join(import.meta.dirname, '../src/server.ts')

const versions = async () =>
  (await readdir(MIGRATIONS_DIR))
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.replace(/\.sql$/, ''))
    .sort()

/** The stores' superuser owns the schema; auth runs as authlab_app, which the migration creates. */
function roles(stores: Stores) {
  const owner = stores.postgres.url
  const runtime = new URL(owner)
  runtime.username = 'authlab_app'
  runtime.password = randomBytes(18).toString('base64url')
  return { owner, runtime: runtime.href }
}

async function runMigrate(env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [MIGRATE], {
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 30_000,
  })
}

/** The error auth refused to start with; an auth that started is closed, and a failure. */
async function refusal(config: AuthConfig): Promise<Error & { code?: string }> {
  let app: FastifyInstance
  try {
    app = await buildApp(config)
  } catch (err) {
    return err as Error & { code?: string }
  }
  await app.close()
  return assert.fail('auth started')
}

async function tableExists(url: string, table: string): Promise<boolean> {
  const pool = new pg.Pool({ connectionString: url, max: 1 })
  try {
    const { rows } = await pool.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [
      table,
    ])
    return rows[0]!.present
  } finally {
    await pool.end()
  }
}

test('the migrate command migrates and grants as the owner, and a second run applies nothing; auth then works without DATABASE_MIGRATION_URL', async (t) => {
  const stores = await startStores()
  t.after(() => stopStores(stores))
  const { owner, runtime } = roles(stores)
  const env = { DATABASE_MIGRATION_URL: owner, DATABASE_URL: runtime }
  const first = await runMigrate(env)
  assert.match(first.stdout, new RegExp(`migrations applied: ${(await versions()).join(', ')}`))
  assert.match(first.stdout, /runtime role authlab_app granted row access only/)
  const second = await runMigrate(env)
  assert.match(second.stdout, /schema is current: no migration to apply/)
  assert.doesNotMatch(second.stdout, /migrations applied/)

  // auth as authlab_app, with no DATABASE_MIGRATION_URL anywhere in its configuration.
  const config = testConfig(stores, { DATABASE_URL: runtime })
  assert.equal(config.DATABASE_MIGRATION_URL, undefined)
  const app = await buildApp(config)
  t.after(() => app.close())
  const { login } = await registerAndLogin(app)
  assert.equal((await introspect(app, login.accessToken)).json().active, true)
  assert.equal((await app.pg.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u, 'authlab_app')
  assert.equal((await app.inject('/auth/readyz')).statusCode, 200)
})

test('auth refuses to start on an unmigrated or partly migrated schema, naming the missing migrations, and creates nothing', async (t) => {
  const stores = await startStores()
  t.after(() => stopStores(stores))
  const all = await versions()
  const unmigrated = await refusal(testConfig(stores))
  assert.equal(unmigrated.code, 'AUTHLAB_SCHEMA_NOT_MIGRATED')
  assert.match(unmigrated.message, new RegExp(all.join(', ')))
  assert.match(unmigrated.message, /migrate/)
  assert.equal(await tableExists(stores.postgres.url, 'schema_migrations'), false, 'auth did not migrate')
  assert.equal(await tableExists(stores.postgres.url, 'users'), false)

  // Migrated by an older release: the two newest migrations are missing.
  const older = await mkdtemp(join(tmpdir(), 'authlab-migrations-'))
  t.after(() => rm(older, { recursive: true, force: true }))
  for (const version of all.slice(0, -2)) {
    await copyFile(join(MIGRATIONS_DIR, `${version}.sql`), join(older, `${version}.sql`))
  }
  const pool = new pg.Pool({ connectionString: stores.postgres.url, max: 1 })
  await migrate(pool, older)
  await pool.end()
  const partly = await refusal(testConfig(stores))
  assert.equal(partly.code, 'AUTHLAB_SCHEMA_NOT_MIGRATED')
  assert.match(partly.message, new RegExp(`lacks migrations ${all.slice(-2).join(', ')}:`))
  const check = new pg.Pool({ connectionString: stores.postgres.url, max: 1 })
  const { rows } = await check.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY 1')
  await check.end()
  assert.deepEqual(
    rows.map((r) => r.version),
    all.slice(0, -2),
    'auth applied none of them',
  )

  // The process: one line naming the cause, exit code 1.
  const { status, stderr } = spawnSync(process.execPath, [SERVER], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: stores.postgres.url,
      REDIS_URL: stores.redis.urlFor('auth'),
      PORT: '0',
      LOG_LEVEL: 'silent',
    },
    encoding: 'utf8',
    timeout: 30_000,
  })
  assert.equal(status, 1, stderr)
  assert.match(
    stderr,
    /auth did not start: AUTHLAB_SCHEMA_NOT_MIGRATED: the database schema lacks migrations/,
  )
})

test('auth refuses DATABASE_MIGRATION_URL in its environment: only the migrate command reads it', () => {
  assert.throws(
    () => loadAuthConfig({ DATABASE_MIGRATION_URL: 'postgres://owner:secret@127.0.0.1/authlab' }),
    {
      code: 'AUTHLAB_CONFIG_INVALID',
      message: /DATABASE_MIGRATION_URL is set: only the migrate command reads it/,
    },
  )
  assert.equal(loadAuthConfig({ DATABASE_MIGRATION_URL: '' }).DATABASE_MIGRATION_URL, undefined)
})
