import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { type PrometheusServer, startPrometheus } from '@authlab/servers'
import { type Cluster, startCluster } from '../src/index.ts'

let cluster: Cluster
let prometheus: PrometheusServer
before(async () => {
  cluster = await startCluster({ replicas: 2, port: 0 })
  prometheus = await startPrometheus({ jobs: cluster.scrapeJobs(), scrapeIntervalS: 1 })
})
after(async () => {
  await prometheus?.close()
  await cluster?.close()
})

/** Polls `probe` until it returns a value, within a bounded time; the last probe's error otherwise. */
async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await sleep(250)
  }
}

test('Prometheus scrapes auth and every replica: its targets API shows each one up', async () => {
  const expected = cluster.scrapeJobs().flatMap((j) => j.targets.map((t) => `${j.job} ${t}`))
  assert.equal(expected.length, 5, 'auth and 2 replicas of each of 2 services')
  const targets = await eventually('every target up', async () => {
    const list = await prometheus.targets()
    return list.length === expected.length && list.every((t) => t.health === 'up') ? list : undefined
  })
  assert.deepEqual(targets.map((t) => `${t.job} ${t.instance}`).sort(), expected.sort())
})

test('the scraped series name their replica: traffic through the gateway shows up per replica and mode', async () => {
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`${cluster.url}/orders/none/me`)
    assert.equal(res.status, 200)
  }
  const perReplica = await eventually('decisions of both orders replicas scraped', async () => {
    const result = await prometheus.query(
      'sum by (replica) (authlab_auth_decisions_total{service="orders",mode="none"})',
    )
    const total = result.reduce((s, r) => s + r.value, 0)
    return result.length === 2 && total >= 20 ? result : undefined
  })
  assert.deepEqual(perReplica.map((r) => r.metric.replica).sort(), ['orders-1', 'orders-2'])
})

const infraFile = (path: string) => fileURLToPath(import.meta.resolve(`@authlab/infra/${path}`))

test("promtool accepts the compose profile's Prometheus configuration (DNS discovery of every service)", () => {
  const out = execFileSync('promtool', ['check', 'config', infraFile('prometheus/prometheus.yml')], {
    encoding: 'utf8',
  })
  assert.match(out, /SUCCESS/)
  const config = readFileSync(infraFile('prometheus/prometheus.yml'), 'utf8')
  for (const job of cluster.scrapeJobs()) {
    assert.match(
      config,
      new RegExp(`job_name: ${job.job}\\n\\s+metrics_path: ${job.metricsPath}\\n`),
      job.job,
    )
  }
})

test('every query of the provisioned Grafana dashboard runs on Prometheus and names only metrics the services export', async () => {
  // The metric families the services declare (prom-client writes # TYPE for every registered one,
  // with or without samples yet), plus Prometheus' own `up`.
  const exported = new Set(['up'])
  for (const job of cluster.scrapeJobs()) {
    const body = await (await fetch(`http://${job.targets[0]}${job.metricsPath}`)).text()
    for (const m of body.matchAll(/^# TYPE (\S+) /gm)) exported.add(m[1] as string)
  }
  const dashboard = JSON.parse(readFileSync(infraFile('grafana/dashboards/authlab.json'), 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[]
  }
  assert.ok(dashboard.panels.length >= 10)
  for (const panel of dashboard.panels) {
    for (const { expr } of panel.targets) {
      const names = [...expr.matchAll(/([a-z_:][a-z0-9_:]*)\{/g)].map((m) => m[1] as string)
      assert.ok(names.length > 0, `${panel.title}: a selector with labels`)
      for (const name of names) {
        const family = name.replace(/_(bucket|count|sum)$/, '')
        assert.ok(exported.has(name) || exported.has(family), `${panel.title}: ${name} is exported`)
      }
      await prometheus.query(expr) // rejects on a PromQL error
    }
  }
})
