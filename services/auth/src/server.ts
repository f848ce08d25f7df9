import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.ts'
import { loadAuthConfig } from './config.ts'

const config = loadAuthConfig()
const app = await buildApp(config)

// On SIGTERM/SIGINT: stop accepting, let in-flight requests finish (fastify answers 503 to new
// ones while closing), close the stores, exit; a second signal or the grace period forces it.
closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async ({ err, signal }) => {
  if (err) app.log.error({ err }, 'shutting down after an error')
  else app.log.info({ signal }, 'shutting down')
  await app.close()
})

await app.listen({ host: config.HOST, port: config.PORT })
