import { createPool } from '@authlab/clients'
import { loadAuthConfig } from '../config.ts'
import { assertSchemaCurrent } from '../plugins/app/migrations.ts'
import { rotateSigningKey } from '../rotate.ts'

// Usage: pnpm --filter @authlab/auth rotate-key [publishDelaySeconds]
const config = loadAuthConfig()
const pool = createPool({
  connectionString: config.DATABASE_URL,
  max: 1,
  connectTimeoutMs: config.PG_CONNECT_TIMEOUT_MS,
  statementTimeoutMs: config.PG_STATEMENT_TIMEOUT_MS,
})
try {
  // As auth, it runs as DATABASE_URL's role and does not migrate: the migrate command does.
  await assertSchemaCurrent(pool)
  const delay = process.argv[2] === undefined ? undefined : Number(process.argv[2])
  const { kid, activatesAt } = await rotateSigningKey(pool, config, delay)
  console.log(`new signing key ${kid}: in the JWKS now, signs from ${activatesAt.toISOString()}`)
} finally {
  await pool.end()
}
