#!/usr/bin/env node
// `pnpm failover`: for each Redis topology, a cluster of 2 replicas per service is started, the
// cost of acknowledging writes only once a replica has them (WAIT) is measured on its servers, and
// the primary holding the revocation keys is killed under load (loadtest/src/failover.ts). Writes
// loadtest/results/failover-<time>/failover.json and failover.md (the README's table). The full
// bench runs the same phase (`pnpm bench`, unless --no-failover) and puts it in its report.
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { RedisMode } from '@authlab/clients'
import { measureTopologies } from './failover.ts'
import { renderTopologiesMarkdown } from './report.ts'

const { values } = parseArgs({
  options: {
    topologies: { type: 'string', default: 'standalone,sentinel,cluster' },
    quick: { type: 'boolean', default: false },
  },
})
const topologies = values.topologies.split(',') as RedisMode[]
const started = Date.now()
const runs = await measureTopologies({
  topologies,
  quick: values.quick,
  log: (line) =>
    console.log(`[failover ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}`),
})
const markdown = renderTopologiesMarkdown(runs)
const dir = join('loadtest', 'results', `failover-${new Date(started).toISOString().replace(/[:.]/g, '-')}`)
await mkdir(dir, { recursive: true })
const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version }
await writeFile(
  join(dir, 'failover.json'),
  `${JSON.stringify({ machine, startedAt: new Date(started).toISOString(), topologies: runs }, null, 2)}\n`,
)
await writeFile(join(dir, 'failover.md'), markdown)
console.log(markdown)
console.log(`written to ${dir}`)
