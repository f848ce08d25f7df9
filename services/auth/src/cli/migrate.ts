import { loadMigrateConfig } from '../config.ts'
import { migrateDatabase } from '../plugins/app/migrations.ts'

// Usage: pnpm --filter @authlab/auth migrate (node services/auth/src/cli/migrate.ts)
//
// The one-shot step before auth starts (compose's `migrate` service, the auth pod's init container,
// the native runner): as the schema owner (DATABASE_MIGRATION_URL), apply the migrations and grant
// DATABASE_URL's role row access, then exit. auth itself never gets the owner's credentials; it
// refuses to start on a schema that lacks a migration. Running it again applies nothing.
try {
  const config = loadMigrateConfig()
  const { applied, role } = await migrateDatabase(config)
  console.log(
    applied.length > 0
      ? `migrations applied: ${applied.join(', ')}`
      : 'schema is current: no migration to apply',
  )
  if (role) console.log(`runtime role ${role} granted row access only`)
  else {
    console.warn(
      "DATABASE_MIGRATION_URL is unset: migrated as DATABASE_URL's role, which owns the schema (development only)",
    )
  }
} catch (err) {
  console.error(`migrate failed: ${(err as Error).message}`)
  process.exitCode = 1
}
