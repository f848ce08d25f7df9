import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.ts'
import { loadAuthConfig } from './config.ts'

const config = loadAuthConfig()
const app = await buildApp(config)

// On SIGTERM/SIGINT: stop accepting connections, serve the requests already on one and close idle
// keep-alive sockets (no 503 while closing: nginx retries a closed socket on another replica; see
// serverOptions), close the stores, exit; a second signal or the grace period forces it.
closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async ({ err, signal }) => {
  if (err) app.log.error({ err }, 'shutting down after an error')
  else app.log.info({ signal }, 'shutting down')
  await app.close()
})

await app.listen({ host: config.HOST, port: config.PORT })
