import { type ChildProcess, execFile, execFileSync, fork, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { findBinary, hasBinary } from '@authlab/servers'

const run = promisify(execFile)
const WORKER = join(import.meta.dirname, 'load-worker.ts')

export interface PooledRequest {
  path: string
  headers: Record<string, string>
}

export interface LoadResult {
  requests: number
  ok: number
  non2xx: number
  errors: number
  rps: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
  statusCounts: Record<string, number>
  generator: string
}

/** `taskset -c <cpus>` in front of a command when pinning is possible, else the command as is. */
export function pinned(cpus: string | undefined, command: string, args: string[]): [string, string[]] {
  return cpus && hasBinary('taskset') ? ['taskset', ['-c', cpus, command, ...args]] : [command, args]
}

async function withTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'authlab-load-'))
  try {
    return await work(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function collect(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} exited ${code}: ${err}`)),
    )
  })
}

type WorkerResult = Omit<LoadResult, 'rps' | 'generator'> & { durationS: number }

/**
 * The autocannon process, pinned with taskset to `cpus` (all its threads, and the ones it starts
 * later inherit the mask), kept for the whole bench.
 */
export class LoadGenerator {
  readonly #child: ChildProcess
  readonly #pending = new Map<number, { resolve: (r: WorkerResult) => void; reject: (e: Error) => void }>()
  #next = 0

  private constructor(child: ChildProcess) {
    this.#child = child
    child.on('message', (m: { id: number; result?: WorkerResult; error?: string }) => {
      const waiter = this.#pending.get(m.id)
      this.#pending.delete(m.id)
      if (m.result) waiter?.resolve(m.result)
      else waiter?.reject(new Error(m.error ?? 'load worker failed'))
    })
    child.once('exit', (code) => {
      for (const w of this.#pending.values()) w.reject(new Error(`load worker exited (${code})`))
      this.#pending.clear()
    })
  }

  static start(cpus?: string): LoadGenerator {
    const child = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    if (cpus && child.pid && hasBinary('taskset')) {
      execFileSync('taskset', ['-a', '-p', '-c', cpus, String(child.pid)], { stdio: 'ignore' })
    }
    return new LoadGenerator(child)
  }

  /** Closed-loop saturation: as fast as `connections` keep-alive connections allow. */
  async saturate(
    url: string,
    pool: PooledRequest[],
    opts: { connections: number; durationS: number; overallRate?: number },
  ): Promise<LoadResult> {
    const id = this.#next++
    const r = await new Promise<WorkerResult>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#child.send({ id, input: { url, pool, ...opts } })
    })
    return {
      ...r,
      rps: r.ok / r.durationS,
      generator: opts.overallRate ? 'autocannon (fixed rate, closed loop)' : 'autocannon',
    }
  }

  close(): void {
    this.#child.disconnect()
  }
}

const REPO_TOOLS = join(import.meta.dirname, '../../.tools/bin')

/** vegeta from $VEGETA, the project's .tools/bin (where setup installs it), or PATH. */
export function vegetaBinary(): string | undefined {
  if (process.env.VEGETA) return process.env.VEGETA
  return hasBinary('vegeta', [REPO_TOOLS]) ? findBinary('vegeta', [REPO_TOOLS]) : undefined
}

/**
 * Latency at a fixed arrival rate with vegeta's open model: requests leave on schedule whether or
 * not earlier ones returned, so a stall shows up in the percentiles instead of being hidden by a
 * generator that waits (coordinated omission). Falls back to autocannon's rate limit, flagged.
 */
export async function fixedRate(
  url: string,
  pool: PooledRequest[],
  opts: { rate: number; durationS: number; cpus?: string; fallback: LoadGenerator },
): Promise<LoadResult> {
  const vegeta = vegetaBinary()
  if (!vegeta) {
    return opts.fallback.saturate(url, pool, {
      connections: 16,
      durationS: opts.durationS,
      overallRate: opts.rate,
    })
  }
  return withTempDir(async (dir) => {
    const targets = join(dir, 'targets.txt')
    await writeFile(
      targets,
      pool
        .map((r) =>
          [`GET ${url}${r.path}`, ...Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`), ''].join('\n'),
        )
        .join('\n'),
    )
    const bin = join(dir, 'results.bin')
    const [command, args] = pinned(opts.cpus, vegeta, [
      'attack',
      `-targets=${targets}`,
      `-rate=${Math.round(opts.rate)}/s`,
      `-duration=${opts.durationS}s`,
      '-keepalive=true',
      '-timeout=5s',
      `-output=${bin}`,
    ])
    await collect(command, args)
    const { stdout } = await run(vegeta, ['report', '-type=json', bin], { maxBuffer: 1 << 24 })
    const report = JSON.parse(stdout) as {
      requests: number
      duration: number
      latencies: Record<string, number>
      status_codes: Record<string, number>
      errors: string[] | null
    }
    const ok = report.status_codes['200'] ?? 0
    const ms = (ns: number | undefined) => (ns ?? 0) / 1e6
    return {
      requests: report.requests,
      ok,
      non2xx: report.requests - ok - (report.status_codes['0'] ?? 0),
      errors: report.status_codes['0'] ?? 0,
      rps: ok / (report.duration / 1e9),
      p50Ms: ms(report.latencies['50th']),
      p95Ms: ms(report.latencies['95th']),
      p99Ms: ms(report.latencies['99th']),
      statusCounts: report.status_codes,
      generator: 'vegeta (open model)',
    }
  })
}
