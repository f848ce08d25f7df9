#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { type PrometheusServer, startPrometheus } from '@authlab/servers'
import { startCluster } from './cluster.ts'

const { values } = parseArgs({
  options: {
    replicas: { type: 'string', default: process.env.REPLICAS ?? '3' },
    port: { type: 'string', default: process.env.GATEWAY_PORT ?? '8080' },
    // Debian's prometheus scraping auth and every replica (apt-get install prometheus).
    prometheus: { type: 'boolean', default: false },
    // standalone, sentinel (a primary, 2 replicas, 3 sentinels) or cluster (3 primaries + 3 replicas).
    redis: { type: 'string', default: process.env.REDIS_MODE ?? 'standalone' },
  },
})
const redisMode = values.redis
if (redisMode !== 'standalone' && redisMode !== 'sentinel' && redisMode !== 'cluster')
  throw new Error('--redis must be standalone, sentinel or cluster')
const replicas = Number(values.replicas)
const port = Number(values.port)
if (!Number.isInteger(replicas) || replicas < 1) throw new Error('--replicas must be a positive integer')

const started = Date.now()
const cluster = await startCluster({ replicas, port, redisMode, onProgress: (m) => console.log(`… ${m}`) })
console.log(`cluster ready at ${cluster.url} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
if (redisMode === 'standalone') console.log(`  redis ${cluster.redis.url}   postgres ${cluster.postgres.url}`)
else {
  console.log(
    `  redis ${redisMode}: ${cluster.topology.nodes.map((n) => n.port).join(', ')}   postgres ${cluster.postgres.url}`,
  )
  console.log(`  admin: ${cluster.redis.url} (every node has the same users)`)
}
console.log(`  auth ${cluster.auth.url} (Swagger UI: ${cluster.auth.url}/auth/docs)`)
for (const [service, list] of cluster.replicas) {
  console.log(`  ${service}: ${list.map((r) => `${r.replica} :${r.port}`).join(', ')}`)
}
let prometheus: PrometheusServer | undefined
if (values.prometheus) {
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
