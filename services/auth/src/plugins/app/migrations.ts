import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { inTransaction } from '@authlab/clients'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type pg from 'pg'

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

async function migrationsPlugin(fastify: FastifyInstance) {
  const applied = await migrate(fastify.pg)
  if (applied.length > 0) fastify.log.info({ applied }, 'migrations applied')
}

export default fp(migrationsPlugin, {
  name: 'authlab-migrations',
  fastify: '5.x',
  dependencies: ['authlab-postgres'],
})
