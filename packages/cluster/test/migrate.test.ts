import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { MIGRATIONS_DIR } from '@authlab/auth'
import pg from 'pg'
import { type Cluster, startCluster } from '../src/index.ts'

// Migrating is its own one-shot step, run as the schema owner before auth starts; the native runner
// does it the way compose and Kubernetes do, and auth never gets the owner's URL.

const versions = async () =>
  (await readdir(MIGRATIONS_DIR))
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.replace(/\.sql$/, ''))
    .sort()

test("the native runner migrates before it starts auth, and auth's process environment has no DATABASE_MIGRATION_URL", async (t) => {
  // Even one exported in the shell that runs the cluster does not reach auth.
  const exported = process.env.DATABASE_MIGRATION_URL
  process.env.DATABASE_MIGRATION_URL = 'postgres://owner:from-the-shell@127.0.0.1:1/authlab'
  let cluster: Cluster
  try {
    cluster = await startCluster({ services: [], replicas: 0 })
  } finally {
    if (exported === undefined) delete process.env.DATABASE_MIGRATION_URL
    else process.env.DATABASE_MIGRATION_URL = exported
  }
  t.after(() => cluster.close())
  const environ = (await readFile(`/proc/${cluster.auth.pid()}/environ`, 'utf8')).split('\0')
  const names = environ.map((entry) => entry.slice(0, entry.indexOf('=')))
  assert.ok(names.includes('DATABASE_URL'), 'this is the environment of auth')
  assert.ok(!names.includes('DATABASE_MIGRATION_URL'), 'auth never holds the owner URL')
  const databaseUrl = new URL(
    environ.find((e) => e.startsWith('DATABASE_URL='))!.slice('DATABASE_URL='.length),
  )
  assert.equal(databaseUrl.username, 'authlab_app')
  assert.equal((await fetch(`${cluster.auth.url}/auth/readyz`)).status, 200)
  const pool = new pg.Pool({ connectionString: cluster.postgres.url, max: 1 })
  try {
    const { rows } = await pool.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY 1')
    assert.deepEqual(
      rows.map((r) => r.version),
      await versions(),
    )
  } finally {
    await pool.end()
  }
})
