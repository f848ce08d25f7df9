import { warnUnknownVariables } from '@authlab/service-kit'
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.ts'
import { AuthConfigSchema, loadAuthConfig } from './config.ts'

// A refusal to start (a configuration error, a development key-encryption key under
// NODE_ENV=production, a schema the migrate command has not brought up to date) is one line naming
// its cause, and exit code 1: the orchestrator restarts auth, which starts once the cause is gone.
// Anything else (a store unreachable, a bug) keeps its stack.
function refuseToStart(err: unknown): never {
  const { code, message } = err as { code?: unknown; message?: string }
  if (typeof code === 'string' && code.startsWith('AUTHLAB_'))
    console.error(`auth did not start: ${code}: ${message}`)
  else console.error('auth did not start:', err)
  process.exit(1)
}

const config = (() => {
  try {
    return loadAuthConfig()
  } catch (err) {
    return refuseToStart(err)
  }
})()
const app = await buildApp(config).catch(refuseToStart)
// A variable that looks like one of auth's but is not (a misspelling) would be silently ignored.
warnUnknownVariables(app.log, AuthConfigSchema)

// On SIGTERM/SIGINT: stop accepting connections, serve the requests already on one and close idle
// keep-alive sockets (no 503 while closing: nginx retries a closed socket on another replica; see
// serverOptions), close the stores, exit; a second signal or the grace period forces it.
closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async ({ err, signal }) => {
  if (err) app.log.error({ err }, 'shutting down after an error')
  else app.log.info({ signal }, 'shutting down')
  await app.close()
})

await app.listen({ host: config.HOST, port: config.PORT })
