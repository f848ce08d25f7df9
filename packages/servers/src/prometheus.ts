import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { findBinary, freePort, ManagedProcess, waitUntil } from './process.ts'

/** One Prometheus job: the replicas of one service, scraped on the path that service serves. */
export interface ScrapeJob {
  job: string
  metricsPath: string
  /** host:port of every replica. */
  targets: string[]
}

export interface PrometheusTarget {
  job: string
  instance: string
  health: 'up' | 'down' | 'unknown'
  lastError: string
}

export interface PrometheusServer {
  readonly url: string
  readonly dir: string
  /** The active targets, as Prometheus' own API reports them. */
  targets(): Promise<PrometheusTarget[]>
  /** An instant PromQL query; each result's labels and value. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: number }[]>
  close(): Promise<void>
}

export interface PrometheusOptions {
  jobs: ScrapeJob[]
  /** Short for tests and demos; Prometheus' own default is 1 m. */
  scrapeIntervalS?: number
  port?: number
}

/** The configuration file, as a deployment would write it (static targets; compose uses DNS). */
export function prometheusConfig(jobs: ScrapeJob[], scrapeIntervalS = 5): string {
  return stringify({
    global: { scrape_interval: `${scrapeIntervalS}s`, scrape_timeout: `${scrapeIntervalS}s` },
    scrape_configs: jobs.map((j) => ({
      job_name: j.job,
      metrics_path: j.metricsPath,
      // The services label their series with service and replica themselves; keep those.
      honor_labels: true,
      static_configs: [{ targets: j.targets }],
    })),
  })
}

/** Debian's `prometheus` on a free loopback port with a temporary data directory, removed on close. */
export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusServer> {
  const bin = findBinary('prometheus', ['/usr/bin'])
  const dir = await mkdtemp(join(tmpdir(), 'authlab-prometheus-'))
  const port = opts.port ?? (await freePort())
  const url = `http://127.0.0.1:${port}`
  const configFile = join(dir, 'prometheus.yml')
  await writeFile(configFile, prometheusConfig(opts.jobs, opts.scrapeIntervalS))
  const proc = new ManagedProcess({
    name: `prometheus :${port}`,
    command: bin,
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    logFile: join(dir, 'prometheus.log'),
    parentDeathSignal: 'TERM',
  })
  try {
    await waitUntil(proc, async () => (await fetch(`${url}/-/ready`)).ok)
  } catch (err) {
    await proc.kill()
    await rm(dir, { recursive: true, force: true })
    throw err
  }
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`)
    const body = (await res.json()) as { status: string; data: T; error?: string }
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? res.status}`)
    return body.data
  }
  return {
    url,
    dir,
    async targets() {
      const data = await api<{
        activeTargets: {
          labels: Record<string, string>
          health: PrometheusTarget['health']
          lastError: string
        }[]
      }>('/api/v1/targets?state=active')
      return data.activeTargets.map((t) => ({
        job: t.labels.job ?? '',
        instance: t.labels.instance ?? '',
        health: t.health,
        lastError: t.lastError,
      }))
    },
    async query(promql) {
      const data = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
        `/api/v1/query?query=${encodeURIComponent(promql)}`,
      )
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }))
    },
    async close() {
      await proc.stop('SIGTERM')
      await rm(dir, { recursive: true, force: true })
    },
  }
}
