import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { accessSync, constants, createWriteStream, readdirSync, readFileSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { BinaryNotFoundError, ServerStartError } from './errors.ts'

const CLOCK_TICKS_PER_SECOND = 100

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
 * Ports this process has handed out. bind(0) may return a port again once it is free, and callers
 * bind theirs later (a cluster takes every replica's port first, then starts them together): two
 * replicas given one port would leave one dead behind a probe the other answers.
 */
const handedOut = new Set<number>()

/** A free port on 127.0.0.1 that this process has not handed out before. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await unusedPort()
    if (handedOut.has(port)) continue
    // Bounded: a long run forgets the oldest ports rather than growing without end.
    if (handedOut.size >= 4096) handedOut.delete(handedOut.values().next().value as number)
    handedOut.add(port)
    return port
  }
}

/** Asks the kernel for a free loopback port. */
function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
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

/**
 * CPU time of a process in ms, summed over its threads from /proc/<pid>/task/<tid>/schedstat: the
 * scheduler's own nanosecond runtime. /proc/<pid>/stat counts whole clock ticks charged to whoever
 * runs when the tick fires, which over a 1 s window of a busy shared core is off by ±10 %; the
 * benchmark's per-request costs need better. Falls back to /proc/<pid>/stat without schedstat.
 */
export function processCpuTimeMs(pid: number): number {
  try {
    let ns = 0
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      } catch {}
    }
    if (ns > 0) return ns / 1e6
  } catch {}
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces; count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND
  } catch {
    return 0
  }
}

/**
 * Context switches of a process's main thread (voluntary + involuntary, /proc/<pid>/status), 0
 * when unreadable. For a Node.js service the main thread is the event loop: a voluntary switch is
 * the loop going to sleep in epoll_wait with nothing to do, so their count over a window says how
 * often the loop was woken, which is what a request that waits on Redis or auth adds.
 */
export function mainThreadContextSwitches(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const count = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0)
    return count('voluntary_ctxt_switches') + count('nonvoluntary_ctxt_switches')
  } catch {
    return 0
  }
}

/** A process and all its descendants (postgres and nginx fork workers). */
export async function processTree(rootPid: number): Promise<number[]> {
  const children = await childrenByParent()
  const tree: number[] = []
  const queue = [rootPid]
  while (queue.length > 0) {
    const pid = queue.pop()!
    tree.push(pid)
    queue.push(...(children.get(pid) ?? []))
  }
  return tree
}

async function childrenByParent(): Promise<Map<number, number[]>> {
  const children = new Map<number, number[]>()
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      const list = children.get(ppid) ?? []
      list.push(Number(entry))
      children.set(ppid, list)
    } catch {}
  }
  return children
}

/** CPU time of a process and all its descendants, those that have exited included. */
export async function processTreeCpuTimeMs(rootPid: number): Promise<number> {
  let total = 0
  for (const pid of await processTree(rootPid)) total += processCpuTimeMs(pid) + reapedChildrenCpuTimeMs(pid)
  return total
}

/**
 * The CPU of the children a process has waited for (cutime + cstime). A tree's live members alone
 * are not monotonic: when a child exits (a Postgres backend whose pool connection idled out, an
 * autovacuum worker), its CPU leaves the sum, and a window around that exit reads negative. The
 * parent's count of reaped children keeps it.
 */
function reapedChildrenCpuTimeMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS_PER_SECOND
  } catch {
    return 0
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
