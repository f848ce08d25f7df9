import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'
import { freePort, hasBinary, prometheusConfig } from '../src/index.ts'

const jobs = [
  { job: 'auth', metricsPath: '/auth/metrics', targets: ['127.0.0.1:1001'] },
  { job: 'orders: "a"', metricsPath: '/orders/metrics', targets: ['127.0.0.1:1002', '127.0.0.1:1003'] },
]

test('the Prometheus configuration is YAML with every job, its path and its targets', () => {
  assert.deepEqual(parse(prometheusConfig(jobs, 2)), {
    global: { scrape_interval: '2s', scrape_timeout: '2s' },
    scrape_configs: jobs.map((j) => ({
      job_name: j.job,
      metrics_path: j.metricsPath,
      honor_labels: true,
      static_configs: [{ targets: j.targets }],
    })),
  })
})

test('promtool accepts the configuration', { skip: !hasBinary('promtool') && 'no promtool' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'authlab-promtool-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'prometheus.yml')
  await writeFile(file, prometheusConfig(jobs))
  assert.match(execFileSync('promtool', ['check', 'config', file], { encoding: 'utf8' }), /SUCCESS/)
})

test('freePort hands out distinct loopback ports that can be bound on 127.0.0.1', async () => {
  const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()))
  assert.equal(new Set(ports).size, ports.length)
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(ports[0], '127.0.0.1', resolve)
  })
  await new Promise((resolve) => server.close(resolve))
})
