import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createPool, inTransaction } from '@authlab/clients'
import createError from '@fastify/error'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type pg from 'pg'
import type { MigrateConfig } from '../../config.ts'

export const MIGRATIONS_DIR = join(import.meta.dirname, '../../../migrations')
// Any constant works; it only has to be the same for every migrate command running at once
// (the init containers of several auth pods).
const MIGRATION_LOCK = 0x61757468

/**
 * Migrating is a step of its own, before auth starts: the migrate command (src/cli/migrate.ts)
 * connects as the schema owner (DATABASE_MIGRATION_URL), applies the migrations, grants the
 * runtime role, and exits. auth itself never holds the owner's credentials: it only checks, at
 * start, that the schema has every migration it was built for, and refuses to start otherwise.
 */
export const SchemaNotMigratedError = createError<[string]>('AUTHLAB_SCHEMA_NOT_MIGRATED', '%s', 503)

interface MigrationFile {
  version: string
  checksum: string
  sql: string
}

/** The versioned SQL files, in order, with their checksums. */
async function migrationFiles(dir: string): Promise<MigrationFile[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort()
  return Promise.all(
    files.map(async (file) => {
      const sql = await readFile(join(dir, file), 'utf8')
      const checksum = createHash('sha256').update(sql).digest('hex')
      return { version: file.replace(/\.sql$/, ''), checksum, sql }
    }),
  )
}

/**
 * Applies the versioned SQL files in order, each once, recorded in schema_migrations with a
 * checksum. One transaction under an advisory lock: migrations started together do not race, and
 * a failing migration leaves nothing half-applied. An edited, already-applied file is an error.
 */
export async function migrate(pool: pg.Pool, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = await migrationFiles(dir)
  return inTransaction(pool, async (client) => {
    const applied: string[] = []
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
    const { rows } = await client.query<{ version: string; checksum: string }>(
      'SELECT version, checksum FROM schema_migrations',
    )
    const done = new Map(rows.map((r) => [r.version, r.checksum]))
    for (const { version, checksum, sql } of files) {
      const previous = done.get(version)
      if (previous !== undefined) {
        if (previous !== checksum) throw new Error(`migration ${version} was changed after it was applied`)
        continue
      }
      await client.query(sql)
      await client.query('INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)', [
        version,
        checksum,
      ])
      applied.push(version)
    }
    return applied
  })
}

/**
 * Least privilege: the role auth runs as (DATABASE_URL) may read and write rows, nothing else. The
 * migration role (DATABASE_MIGRATION_URL, the owner) creates it if need be, sets its password from
 * DATABASE_URL, and grants it exactly that, once the schema is current.
 */
export async function provisionRuntimeRole(owner: pg.Pool, runtimeUrl: string): Promise<string> {
  const url = new URL(runtimeUrl)
  const role = decodeURIComponent(url.username)
  const password = decodeURIComponent(url.password)
  if (!role || !password) throw new Error('DATABASE_URL must name a user and a password')
  return inTransaction(owner, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    const ident = client.escapeIdentifier(role)
    const { rows } = await client.query<{ exists: boolean; owner: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS exists, current_user = $1 AS owner`,
      [role],
    )
    if (rows[0]?.owner) throw new Error('DATABASE_URL and DATABASE_MIGRATION_URL name the same role')
    // Role DDL takes no bind parameters: the password goes in as an escaped literal.
    const literal = client.escapeLiteral(password)
    await client.query(
      rows[0]?.exists
        ? `ALTER ROLE ${ident} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${literal}`
        : `CREATE ROLE ${ident} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${literal}`,
    )
    await client.query(`GRANT USAGE ON SCHEMA public TO ${ident}`)
    await client.query(`REVOKE CREATE ON SCHEMA public FROM ${ident}`)
    await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${ident}`)
    await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${ident}`)
    await client.query(`REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_migrations FROM ${ident}`)
    return role
  })
}

/**
 * The migrate command's work: as the owner (DATABASE_MIGRATION_URL), migrate and grant
 * DATABASE_URL's role row access. Without DATABASE_MIGRATION_URL, DATABASE_URL's role migrates and
 * so owns the schema (development only) and no role is granted. Safe to run again: a second run
 * applies nothing and grants the same.
 */
export async function migrateDatabase(
  config: MigrateConfig,
  dir = MIGRATIONS_DIR,
): Promise<{ applied: string[]; role?: string }> {
  const owner = createPool({
    connectionString: config.DATABASE_MIGRATION_URL ?? config.DATABASE_URL,
    max: 1,
    connectTimeoutMs: config.PG_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.PG_STATEMENT_TIMEOUT_MS,
  })
  owner.on('error', () => {})
  try {
    const applied = await migrate(owner, dir)
    if (!config.DATABASE_MIGRATION_URL) return { applied }
    return { applied, role: await provisionRuntimeRole(owner, config.DATABASE_URL) }
  } finally {
    await owner.end()
  }
}

/**
 * What auth checks at start instead of migrating: every migration file it carries is recorded in
 * schema_migrations with the same checksum. Versions the database has beyond them (a newer auth
 * migrated it, during a rolling update) are fine. Needs only SELECT on schema_migrations.
 */
export async function assertSchemaCurrent(db: pg.Pool | pg.PoolClient, dir = MIGRATIONS_DIR): Promise<void> {
  const expected = await migrationFiles(dir)
  const { rows: present } = await db.query<{ present: boolean }>(
    `SELECT to_regclass('schema_migrations') IS NOT NULL AS present`,
  )
  const done = new Map<string, string>()
  if (present[0]?.present) {
    const { rows } = await db.query<{ version: string; checksum: string }>(
      'SELECT version, checksum FROM schema_migrations',
    )
    for (const row of rows) done.set(row.version, row.checksum)
  }
  const missing = expected.filter((m) => !done.has(m.version)).map((m) => m.version)
  const changed = expected
    .filter((m) => done.has(m.version) && done.get(m.version) !== m.checksum)
    .map((m) => m.version)
  if (missing.length > 0) {
    throw new SchemaNotMigratedError(
      `the database schema lacks migration${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: auth does not migrate; run the migrate command first (pnpm --filter @authlab/auth migrate, i.e. node services/auth/src/cli/migrate.ts, with DATABASE_MIGRATION_URL the schema owner)`,
    )
  }
  if (changed.length > 0) {
    throw new SchemaNotMigratedError(
      `the database recorded migration${changed.length > 1 ? 's' : ''} ${changed.join(', ')} with another checksum than this auth's files: the schema is not the one this auth was built for`,
    )
  }
}

/** At start: the schema must be current (the migrate command ran), or auth does not start. */
async function migrationsPlugin(fastify: FastifyInstance) {
  await assertSchemaCurrent(fastify.pg)
}

export default fp(migrationsPlugin, {
  name: 'authlab-migrations',
  fastify: '5.x',
  dependencies: ['authlab-postgres'],
})
