import { ADMIN_USAGE, AdminUsageError, buildAdminApp, parseAdminArgs, runAdmin } from '../admin.ts'
import { loadAuthConfig } from '../config.ts'

// Usage: pnpm --filter @authlab/auth admin <roles|disable|enable> <email> [role ...] (--help for more)
//
// The arguments are checked before anything is read or connected: a bad one is a clear message,
// the usage, and exit code 2.
const cmd = (() => {
  try {
    return parseAdminArgs(process.argv.slice(2))
  } catch (err) {
    if (!(err instanceof AdminUsageError)) throw err
    console.error(`admin: ${err.message}\n\n${ADMIN_USAGE}`)
    process.exit(2)
  }
})()

if (cmd.command === 'help') {
  console.log(ADMIN_USAGE)
} else {
  try {
    const app = await buildAdminApp(loadAuthConfig())
    try {
      console.log(await runAdmin(app, cmd))
    } finally {
      await app.close()
    }
  } catch (err) {
    const { code, message } = err as { code?: unknown; message?: string }
    console.error(`admin failed: ${typeof code === 'string' ? `${code}: ` : ''}${message}`)
    process.exitCode = 1
  }
}
