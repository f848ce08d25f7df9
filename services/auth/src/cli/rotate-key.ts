import { createPool } from '@authlab/clients'
import { loadAuthConfig } from '../config.ts'
import { assertSchemaCurrent } from '../plugins/app/migrations.ts'
import { parseRotateKeyArgs, ROTATE_KEY_USAGE, rotateSigningKey, UsageError } from '../rotate.ts'

// Usage: pnpm --filter @authlab/auth rotate-key [publishDelaySeconds] (--help for more)
//
// The arguments are checked before anything is read or connected: a bad one is a clear message,
// the usage, and exit code 2, never a key with a NaN delay.
const args = (() => {
  try {
    return parseRotateKeyArgs(process.argv.slice(2))
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    console.error(`rotate-key: ${err.message}\n\n${ROTATE_KEY_USAGE}`)
    process.exit(2)
  }
})()

if (args.help) {
  console.log(ROTATE_KEY_USAGE)
} else {
  try {
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
      const { kid, activatesAt } = await rotateSigningKey(pool, config, args.publishDelayS)
      console.log(`new signing key ${kid}: in the JWKS now, signs from ${activatesAt.toISOString()}`)
    } finally {
      await pool.end()
    }
  } catch (err) {
    const { code, message } = err as { code?: unknown; message?: string }
    console.error(`rotate-key failed: ${typeof code === 'string' ? `${code}: ` : ''}${message}`)
    process.exitCode = 1
  }
}
