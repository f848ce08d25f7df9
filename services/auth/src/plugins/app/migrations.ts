import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createPool, inTransaction } from '@authlab/clients'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type pg from 'pg'
import type { AuthConfig } from '../../config.ts'

export const MIGRATIONS_DIR = new URL('../../../migrations/', import.meta.url).pathname
// Any constant works; it only has to be the same for every auth replica starting at once.
const MIGRATION_LOCK = 0x61757468

/**
 * Applies the versioned SQL files in order, each once, recorded in schema_migrations with a
 * checksum. One transaction under an advisory lock: replicas starting together do not race, and
 * a failing migration leaves nothing half-applied. An edited, already-applied file is an error.
 */
export async function migrate(pool: pg.Pool, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort()
  return inTransaction(pool, async (client) => {
    const applied: string[] = []
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
    const { rows } = await client.query<{ version: string; checksum: string }>(
      'SELECT version, checksum FROM schema_migrations',
    )
    const done = new Map(rows.map((r) => [r.version, r.checksum]))
    for (const file of files) {
      const sql = await readFile(join(dir, file), 'utf8')
      const checksum = createHash('sha256').update(sql).digest('hex')
      const version = file.replace(/\.sql$/, '')
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

async function migrationsPlugin(fastify: FastifyInstance, opts: { config: AuthConfig }) {
  const { config } = opts
  if (!config.DATABASE_MIGRATION_URL) {
    // One role for both: fine for a laptop, and said so.
    const applied = await migrate(fastify.pg)
    if (applied.length > 0) fastify.log.info({ applied }, 'migrations applied')
    fastify.log.warn('DATABASE_MIGRATION_URL is unset: auth runs as the role that owns the schema')
    return
  }
  const owner = createPool({
    connectionString: config.DATABASE_MIGRATION_URL,
    max: 1,
    connectTimeoutMs: config.PG_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.PG_STATEMENT_TIMEOUT_MS,
  })
  owner.on('error', () => {})
  try {
    const applied = await migrate(owner)
    if (applied.length > 0) fastify.log.info({ applied }, 'migrations applied')
    const role = await provisionRuntimeRole(owner, config.DATABASE_URL)
    fastify.log.info({ role }, 'runtime role granted row access only')
  } finally {
    await owner.end()
  }
}

export default fp(migrationsPlugin, {
  name: 'authlab-migrations',
  fastify: '5.x',
  dependencies: ['authlab-postgres'],
})
