import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { accessSync, constants, createWriteStream, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import getPort from 'get-port'
import { mainThreadContextSwitches, processCpuTimeMs } from './cpu.ts'
import { BinaryNotFoundError, ServerStartError } from './errors.ts'

/** Finds an executable on PATH or in the extra directories given; throws if absent. */
export function findBinary(name: string, extraDirs: string[] = []): string {
  for (const dir of [...extraDirs, ...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin']) {
    if (!dir) continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  throw new BinaryNotFoundError(name, `searched PATH and ${extraDirs.join(', ') || 'no extra directories'}`)
}

export function hasBinary(name: string, extraDirs: string[] = []): boolean {
  try {
    findBinary(name, extraDirs)
    return true
  } catch {
    return false
  }
}

/**
 * A free port on 127.0.0.1 that this process has not handed out before. bind(0) may return a port
 * again once it is free, and callers bind theirs later (a cluster takes every replica's port first,
 * then starts them together): two replicas given one port would leave one dead behind a probe the
 * other answers. get-port's `reserve` keeps every port it returned for the life of the process.
 */
export function freePort(): Promise<number> {
  return getPort({ host: '127.0.0.1', reserve: true })
}

let pdeathsig: string | null | undefined
/**
 * `setpriv --pdeathsig KILL` makes the kernel kill a child when the process that spawned it dies,
 * even by SIGKILL, so a crashed test run or cluster runner leaves no orphan servers behind.
 */
function pdeathsigWrapper(): string | null {
  if (pdeathsig === undefined) {
    pdeathsig = null
    if (process.platform === 'linux' && hasBinary('setpriv')) {
      try {
        execFileSync('setpriv', ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore' })
        pdeathsig = findBinary('setpriv')
      } catch {}
    }
  }
  return pdeathsig
}

export interface SpawnOptions {
  name: string
  command: string
  args: string[]
  logFile: string
  env?: NodeJS.ProcessEnv
  cwd?: string
  uid?: number
  gid?: number
  /**
   * Signal the kernel sends this process if its parent dies. KILL by default; a server that forks
   * workers (nginx) needs a signal its master handles, or the workers outlive it.
   */
  parentDeathSignal?: 'KILL' | 'TERM'
}

/** A long-running child process whose output goes to a log file. */
export class ManagedProcess {
  readonly name: string
  readonly logFile: string
  #child: ChildProcess
  #exited: Promise<number | null>
  #exitCode: number | null | undefined

  constructor(opts: SpawnOptions) {
    this.name = opts.name
    this.logFile = opts.logFile
    const wrapper = pdeathsigWrapper()
    const [command, args] = wrapper
      ? [wrapper, ['--pdeathsig', opts.parentDeathSignal ?? 'KILL', '--', opts.command, ...opts.args]]
      : [opts.command, opts.args]
    const log = createWriteStream(opts.logFile, { flags: 'a' })
    this.#child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
      ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
    })
    this.#child.stdout?.pipe(log, { end: false })
    this.#child.stderr?.pipe(log, { end: false })
    this.#exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#exitCode = code ?? (signal ? -1 : null)
        log.end()
        resolve(code)
      })
      this.#child.once('error', () => resolve(-1))
    })
  }

  get pid(): number {
    return this.#child.pid ?? -1
  }

  get running(): boolean {
    return this.#exitCode === undefined
  }

  get exited(): Promise<number | null> {
    return this.#exited
  }

  /** Sends `signal` without waiting for anything (SIGSTOP, SIGCONT). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.#child.kill(signal)
  }

  /** Sends `signal` and waits for exit, escalating to SIGKILL after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
    if (!this.running) return
    this.#child.kill(signal)
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs)
    await this.#exited
    clearTimeout(timer)
  }

  async kill(): Promise<void> {
    await this.stop('SIGKILL')
  }

  /** User + system CPU time of the process in ms, from /proc (Linux). */
  cpuTimeMs(): number {
    return processCpuTimeMs(this.pid)
  }

  contextSwitches(): number {
    return mainThreadContextSwitches(this.pid)
  }

  tail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n')
    } catch {
      return ''
    }
  }
}

/** Polls `check` until it resolves true; fails with the process log when time runs out. */
export async function waitUntil(
  proc: ManagedProcess,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!proc.running) throw new ServerStartError(proc.name, `exited early\n${proc.tail()}`)
    if (await check().catch(() => false)) return
    await sleep(50)
  }
  throw new ServerStartError(proc.name, `timed out after ${timeoutMs} ms\n${proc.tail()}`)
}
