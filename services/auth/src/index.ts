// auth runs as its own process (src/server.ts); other packages need only its configuration schema,
// e.g. to document it, and importing it must not start anything.
export { type AuthConfig, AuthConfigSchema, loadAuthConfig, MigrateConfigSchema } from './config.ts'
export { MIGRATIONS_DIR } from './plugins/app/migrations.ts'
