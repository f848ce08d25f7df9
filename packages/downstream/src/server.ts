import { warnUnknownVariables } from '@authlab/service-kit'
import closeWithGrace from 'close-with-grace'
import { buildDownstreamApp } from './app.ts'
import { DownstreamConfigSchema, loadDownstreamConfig } from './config.ts'

/** Runs a downstream service until SIGTERM/SIGINT, then drains in-flight requests and exits. */
export async function runDownstream(service: string): Promise<void> {
  const config = loadDownstreamConfig()
  const app = await buildDownstreamApp(service, config)
  // A variable that looks like one of ours but is not (a misspelling) would be silently ignored.
  warnUnknownVariables(app.log, DownstreamConfigSchema)
  closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async ({ err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error')
    await app.close()
  })
  await app.listen({ host: config.HOST, port: config.PORT })
}
