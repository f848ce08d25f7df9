// A network delay between the replicas and their data tier (Redis, auth), so the bench can show
// what each mode pays per request when those are a network hop away instead of on loopback.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface, type Interface } from 'node:readline'
import { findBinary, hasBinary } from '@authlab/servers'
import { pinned } from './load.ts'

const RELAY_SOURCE = join(import.meta.dirname, '../relay')
const TOOLS_BIN = join(import.meta.dirname, '../../.tools/bin')

/**
 * Why the kernel cannot delay packets here (undefined when it can): network namespaces need
 * CAP_NET_ADMIN, and `tc … netem` needs the sch_netem module, which minimal VM kernels leave out.
 */
export function netemUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `${process.platform} has no tc netem`
  if (!hasBinary('unshare') || !hasBinary('tc')) return 'unshare or tc (iproute2) not installed'
  const r = spawnSync(
    'unshare',
    ['--net', '--', 'sh', '-c', 'ip link set lo up && tc qdisc add dev lo root netem delay 1ms'],
    { encoding: 'utf8' },
  )
  if (r.status === 0) return undefined
  const err = `${r.stderr}`.trim()
  if (/unknown/i.test(err)) return `this kernel has no sch_netem (tc: "${err}")`
  return `network namespaces refused (no CAP_NET_ADMIN?): ${err || `exit ${r.status}`}`
}

/** The relay binary, built from loadtest/relay with the Go toolchain when missing or stale. */
export function relayBinary(): string {
  const bin = join(TOOLS_BIN, 'delay-relay')
  const source = join(RELAY_SOURCE, 'main.go')
  if (existsSync(bin) && statSync(bin).mtimeMs >= statSync(source).mtimeMs) return bin
  const go = hasBinary('go', ['/usr/local/go/bin']) ? findBinary('go', ['/usr/local/go/bin']) : undefined
  if (!go) throw new Error('the delay relay needs Go to build it (scripts/setup.sh does when Go is present)')
  mkdirSync(TOOLS_BIN, { recursive: true })
  execFileSync(go, ['build', '-o', bin, '.'], { cwd: RELAY_SOURCE, stdio: 'inherit' })
  return bin
}

/**
 * A TCP relay that holds each chunk for the one-way delay in each direction (so a round trip
 * gains twice the delay). Runs on the load generator's CPUs, so its work is not charged to the
 * servers; exits when its stdin closes, so a killed bench leaves none behind.
 */
export class DelayRelay {
  readonly address: { host: string; port: number }
  readonly #child: ChildProcess
  readonly #lines: Interface
  readonly #acks: ((line: string) => void)[] = []

  private constructor(child: ChildProcess, lines: Interface, address: string) {
    this.#child = child
    this.#lines = lines
    const [host, port] = address.split(':') as [string, string]
    this.address = { host, port: Number(port) }
    lines.on('line', (line) => this.#acks.shift()?.(line))
  }

  static async start(target: { host: string; port: number }, cpus?: string): Promise<DelayRelay> {
    const [command, args] = pinned(cpus, relayBinary(), ['-target', `${target.host}:${target.port}`])
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] })
    const lines = createInterface({ input: child.stdout! })
    const address = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve)
      child.once('exit', (code) => reject(new Error(`delay-relay exited ${code} before listening`)))
    })
    return new DelayRelay(child, lines, address)
  }

  /** Sets the one-way delay; resolves once the relay applies it. */
  setDelay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#acks.push(() => resolve())
      this.#child.stdin!.write(`${Math.round(ms * 1000)}us\n`)
    })
  }

  get pid(): number {
    return this.#child.pid ?? -1
  }

  close(): void {
    this.#lines.close()
    this.#child.stdin?.end()
    this.#child.kill()
  }
}
