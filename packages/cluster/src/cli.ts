#!/usr/bin/env node
import type { PrometheusServer } from '@authlab/servers'
import { parseCliArgs, USAGE, UsageError } from './cli-args.ts'

let options: ReturnType<typeof parseCliArgs>
try {
  options = parseCliArgs(process.argv.slice(2), process.env)
} catch (err) {
  if (!(err instanceof UsageError)) throw err
  process.stderr.write(`authlab-cluster: ${err.message} (--help for usage)\n`)
  process.exit(2)
}
if (options.help) {
  process.stdout.write(USAGE)
  process.exit(0)
}
const { replicas, port, redisMode } = options
// Loaded only now: the command line is checked (and --help answered) at once.
const [{ startCluster }, { PEER_SERVICES }, { startPrometheus }] = await Promise.all([
  import('./cluster.ts'),
  import('./peers.ts'),
  import('@authlab/servers'),
])

const started = Date.now()
// The development cluster runs the peers too (the textbook baseline, /textbook/ on the gateway),
// with a standalone Redis: the tutorial code knows no Sentinel or Redis Cluster.
const cluster = await startCluster({
  replicas,
  port,
  redisMode,
  peers: redisMode === 'standalone' ? PEER_SERVICES : [],
  onProgress: (m) => console.log(`… ${m}`),
})
console.log(`cluster ready at ${cluster.url} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
if (redisMode === 'standalone') console.log(`  redis ${cluster.redis.url}   postgres ${cluster.postgres.url}`)
else {
  console.log(
    `  redis ${redisMode}: ${cluster.topology.nodes.map((n) => n.port).join(', ')}   postgres ${cluster.postgres.url}`,
  )
  console.log(`  admin: ${cluster.redis.url} (every node has the same users)`)
}
console.log(`  auth ${cluster.auth.url} (Swagger UI: ${cluster.auth.url}/auth/docs)`)
for (const [service, list] of [...cluster.replicas, ...cluster.peers]) {
  console.log(`  ${service}: ${list.map((r) => `${r.replica} :${r.port}`).join(', ')}`)
}
let prometheus: PrometheusServer | undefined
if (options.prometheus) {
  prometheus = await startPrometheus({ jobs: cluster.scrapeJobs(), scrapeIntervalS: 5 }).catch(
    async (err) => {
      await cluster.close()
      throw err
    },
  )
  console.log(`  prometheus ${prometheus.url} (targets: ${prometheus.url}/targets)`)
}
console.log(`  logs in ${cluster.logDir}; Ctrl-C stops everything and removes its data`)

let stopping = false
const stop = async (signal: string) => {
  if (stopping) return
  stopping = true
  console.log(`${signal}: stopping the cluster`)
  await prometheus?.close()
  await cluster.close()
  process.exit(0)
}
process.on('SIGINT', () => void stop('SIGINT'))
process.on('SIGTERM', () => void stop('SIGTERM'))
