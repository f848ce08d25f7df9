// The machine the bench runs on: what it is (results.json's `machine`), which CPUs the servers and
// the load generator get, and a CPU quota that makes Redis the bottleneck for the capacity check.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import type { Cluster } from '@authlab/cluster'
import { hasBinary } from '@authlab/servers'
import { vegetaBinary } from './load.ts'
import type { Results } from './results.ts'

/** What a `--version`-style command prints, on stdout or (nginx) stderr. */
function version(command: string, args: string[]): string | undefined {
  const r = spawnSync(command, args, { encoding: 'utf8' })
  return r.error ? undefined : `${r.stdout}${r.stderr}`.trim() || undefined
}

/** A go-installed vegeta has no version string of its own; its module version is in the binary. */
function vegetaVersion(): string | undefined {
  const binary = vegetaBinary()
  return binary ? version('go', ['version', '-m', binary])?.match(/vegeta\/v12\s+(v[\d.]+)/)?.[1] : undefined
}

export function machine(pinning: string): Results['machine'] {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    node: process.versions.node,
    redis: version('redis-server', ['--version'])?.match(/v=([\d.]+)/)?.[1],
    nginx: (version('nginx', ['-v']) ?? version('/usr/sbin/nginx', ['-v']))?.split('/')[1],
    postgres: version('sh', ['-c', 'ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1']),
    vegeta: vegetaVersion(),
    platform: `${process.platform} ${process.arch}`,
    pinning,
  }
}

/** results.json's sentence for `pinCluster`'s outcome. */
export function pinningNote(generatorCpus: string | undefined): string {
  return generatorCpus
    ? `Servers pinned to CPU 0, load generator to CPU ${generatorCpus}.`
    : 'No CPU pinning.'
}

/**
 * Servers on CPU 0, the load generator on the rest: the generator's CPU then never counts as the
 * servers', and it cannot steal their core mid-window. Needs taskset and at least 2 CPUs. Returns
 * the generator's CPU list for taskset, or undefined when nothing was pinned.
 */
export async function pinCluster(cluster: Cluster): Promise<string | undefined> {
  if (cpus().length < 2 || !hasBinary('taskset')) return undefined
  const pids = Object.values(await cluster.pids()).flat()
  for (const pid of pids.filter((p) => p > 0)) {
    execFileSync('taskset', ['-a', '-p', '-c', '0', String(pid)], { stdio: 'ignore' })
  }
  return cpus().length === 2 ? '1' : `1-${cpus().length - 1}`
}

const CGROUP_V1 = '/sys/fs/cgroup/cpu'
const CGROUP_V2 = '/sys/fs/cgroup'
const QUOTA_PERIOD_US = 100_000

/** Moves `pid` into a new cgroup `dir` set up by `limit`; the release moves it back to `parent`. */
function cgroupFor(pid: number, parent: string, limit: (dir: string) => void): () => void {
  const dir = `${parent}/authlab-cpu-${pid}`
  mkdirSync(dir)
  limit(dir)
  writeFileSync(`${dir}/cgroup.procs`, String(pid))
  return () => {
    writeFileSync(`${parent}/cgroup.procs`, String(pid))
    rmdirSync(dir)
  }
}

/**
 * Holds a process (Redis, a replica) to `fraction` of a core with a cgroup (v1 or v2) CPU quota;
 * returns a release function, or why it could not.
 */
export function limitCpu(pid: number, fraction: number): (() => void) | string {
  const quota = Math.max(1000, Math.round(fraction * QUOTA_PERIOD_US))
  try {
    if (existsSync(`${CGROUP_V1}/cpu.cfs_quota_us`)) {
      return cgroupFor(pid, CGROUP_V1, (dir) => {
        writeFileSync(`${dir}/cpu.cfs_period_us`, String(QUOTA_PERIOD_US))
        writeFileSync(`${dir}/cpu.cfs_quota_us`, String(quota))
      })
    }
    if (existsSync(`${CGROUP_V2}/cgroup.controllers`)) {
      return cgroupFor(pid, CGROUP_V2, (dir) =>
        writeFileSync(`${dir}/cpu.max`, `${quota} ${QUOTA_PERIOD_US}`),
      )
    }
    return 'no cgroup CPU controller'
  } catch (err) {
    return `cgroup not writable: ${(err as Error).message}`
  }
}

/** The commit the bench runs (`git describe --always --dirty`), or undefined outside a checkout. */
export function commit(): string | undefined {
  try {
    const out = execFileSync('git', ['describe', '--always', '--dirty', '--abbrev=12'], {
      cwd: import.meta.dirname,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    return out.toString().trim() || undefined
  } catch {
    return undefined
  }
}

/** Holds every process to `fraction` of a core each; one release for all, or why it could not. */
export function limitCpus(pids: readonly number[], fraction: number): (() => void) | string {
  const releases: (() => void)[] = []
  const releaseAll = () => {
    for (const release of releases.splice(0)) release()
  }
  for (const pid of pids) {
    const release = limitCpu(pid, fraction)
    if (typeof release === 'string') {
      releaseAll()
      return release
    }
    releases.push(release)
  }
  return releaseAll
}
