import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import pg from 'pg'
import { build, introspect, registerAndLogin, startStores, stopStores } from './helper.ts'

test('with DATABASE_MIGRATION_URL, auth runs as a role that may read and write rows and nothing else', async (t) => {
  const stores = await startStores()
  t.after(() => stopStores(stores))
  const owner = stores.postgres.url
  const runtime = new URL(owner)
  runtime.username = 'authlab_app'
  runtime.password = randomBytes(18).toString('base64url')
  const app = await build(t, stores, { DATABASE_URL: runtime.href, DATABASE_MIGRATION_URL: owner })
  const { login } = await registerAndLogin(app)
  assert.equal(
    (await introspect(app, login.accessToken)).json().active,
    true,
    'auth works as the runtime role',
  )
  assert.equal(
    (
      await app.inject({
        method: 'POST',
        url: '/auth/logout-all',
        headers: { authorization: `Bearer ${login.accessToken}` },
      })
    ).statusCode,
    204,
    'revocation (advisory locks, row locks, the log) works as the runtime role',
  )

  const asRuntime = new pg.Pool({ connectionString: runtime.href, max: 1 })
  try {
    const { rows } = await asRuntime.query<{ current_user: string }>('SELECT current_user')
    assert.equal(rows[0]?.current_user, 'authlab_app')
    for (const ddl of [
      'DROP TABLE users',
      'ALTER TABLE logins ADD COLUMN x int',
      'CREATE TABLE stolen (x int)',
      "DELETE FROM schema_migrations WHERE version = '001_init'",
      'TRUNCATE revocations',
      'CREATE ROLE intruder',
    ]) {
      await assert.rejects(asRuntime.query(ddl), /permission denied|must be owner/, ddl)
    }
  } finally {
    await asRuntime.end()
  }
  await app.close()
  // A second start (another replica, a restart) re-grants without harm and keeps the password.
  const again = await build(t, stores, { DATABASE_URL: runtime.href, DATABASE_MIGRATION_URL: owner })
  assert.equal(
    (await introspect(again, (await registerAndLogin(again)).login.accessToken)).json().active,
    true,
  )
  await again.close()
})
