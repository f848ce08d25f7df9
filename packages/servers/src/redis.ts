import { access, cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { processCpuTimeMs } from './cpu.ts'
import { findBinary, freePort, ManagedProcess, waitUntil } from './process.ts'
import {
  newRedisPasswords,
  type RedisPasswords,
  type RedisRole,
  redisUrlFor,
  renderAcl,
} from './redis-acl.ts'

export interface RedisServer {
  readonly kind: 'native' | 'container'
  readonly host: string
  readonly port: number
  /** As the admin user (every command, every key): for tests, faults and the bench's INFO. */
  readonly url: string
  /** As one of the ACL users of infra/redis/users.acl: what auth and the replicas connect with. */
  urlFor(role: RedisRole): string
  readonly running: boolean
  /** OS pid of the server, for CPU accounting; -1 when not observable (container). */
  pid(): number
  cpuTimeMs(): Promise<number>
  /** Graceful stop: with AOF on, every acknowledged write survives a later `start()`. */
  stop(): Promise<void>
  /** Abrupt stop (SIGKILL), as a crash. */
  kill(): Promise<void>
  /**
   * A hang: the process stops (SIGSTOP) with its connections open, so clients' commands wait
   * unanswered instead of failing. `thaw()` resumes it; `stop()` and `close()` resume it first.
   */
  freeze(): void
  thaw(): void
  /** Starts again on the same port with the data it had. */
  start(): Promise<void>
  /**
   * A copy of the data on disk as it is now (the AOF), for `restart({ restoreFrom })`: the way to
   * reproduce a partial data loss exactly, such as the last second an `everysec` AOF can lose.
   */
  copyData(): Promise<DataCopy>
  /**
   * Stop then start. `wipeData` deletes the data in between (a Redis that lost its state);
   * `restoreFrom` replaces it with an earlier copy (a Redis that lost its most recent writes).
   */
  restart(opts?: { wipeData?: boolean; restoreFrom?: DataCopy }): Promise<void>
  /** Stops it and removes its data. */
  close(): Promise<void>
}

/** A copy of a Redis server's data directory, removed with `discard()`. */
export interface DataCopy {
  readonly dir: string
  discard(): Promise<void>
}

export interface RedisOptions {
  port?: number
  /** Append-only file with fsync every second: a plain restart keeps sessions. Default true. */
  appendonly?: boolean
  /** Extra `redis-server` arguments, e.g. ['--maxmemory', '64mb']. */
  args?: string[]
  /** The ACL users' passwords; every node of a cluster or a Sentinel set shares one set. */
  passwords?: RedisPasswords
}

/**
 * Sends PING over a raw socket (after AUTH when a password is given); true on +PONG, so not while
 * Redis is still loading its AOF.
 */
export function redisPing(host: string, port: number, password?: string, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    let received = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write(`${password ? `AUTH ${password}\r\n` : ''}PING\r\n`))
    socket.on('data', (data) => {
      received += data.toString()
      if (received.includes('+PONG')) done(true)
      else if (received.split('\r\n').some((line) => line.startsWith('-'))) done(false)
    })
  })
}

class NativeRedis implements RedisServer {
  readonly kind = 'native' as const
  readonly host = '127.0.0.1'
  readonly port: number
  readonly #dir: string
  readonly #opts: RedisOptions
  readonly #passwords: RedisPasswords
  #proc: ManagedProcess | undefined
  #frozen = false

  constructor(port: number, dir: string, opts: RedisOptions) {
    this.port = port
    this.#dir = dir
    this.#opts = opts
    this.#passwords = opts.passwords ?? newRedisPasswords()
  }

  get url(): string {
    return this.urlFor('admin')
  }

  urlFor(role: RedisRole): string {
    return redisUrlFor(role, this.#passwords, this.host, this.port)
  }

  get running(): boolean {
    return this.#proc?.running ?? false
  }

  pid(): number {
    return this.#proc?.running ? this.#proc.pid : -1
  }

  async cpuTimeMs(): Promise<number> {
    return processCpuTimeMs(this.pid())
  }

  async start(): Promise<void> {
    if (this.running) return
    const appendonly = this.#opts.appendonly ?? true
    // Written at every start, so a restored data copy never brings back other passwords.
    const aclFile = join(this.#dir, 'users.acl')
    await writeFile(aclFile, renderAcl(this.#passwords), { mode: 0o600 })
    // A configuration file rather than arguments, written once: Sentinel and a cluster failover
    // rewrite it (CONFIG REWRITE: whom to replicate), and a restarted node must come back as that.
    const conf = join(this.#dir, 'redis.conf')
    if (
      !(await access(conf).then(
        () => true,
        () => false,
      ))
    ) {
      const args = [
        '--port',
        String(this.port),
        '--bind',
        this.host,
        '--dir',
        this.#dir,
        '--save',
        '',
        '--appendonly',
        appendonly ? 'yes' : 'no',
        '--appendfsync',
        'everysec',
        // A full Redis refuses writes rather than evicting a deny entry.
        '--maxmemory-policy',
        'noeviction',
        '--aclfile',
        aclFile,
        '--daemonize',
        'no',
        ...(this.#opts.args ?? []),
      ]
      await writeFile(conf, configFile(args), { mode: 0o600 })
    }
    this.#proc = new ManagedProcess({
      name: `redis-server :${this.port}`,
      command: findBinary('redis-server'),
      args: [conf],
      logFile: join(this.#dir, 'redis.log'),
    })
    await waitUntil(this.#proc, () => redisPing(this.host, this.port, this.#passwords.admin))
  }

  freeze(): void {
    if (!this.#proc?.running) throw new Error(`redis-server :${this.port} is not running`)
    this.#proc.signal('SIGSTOP')
    this.#frozen = true
  }

  thaw(): void {
    if (!this.#frozen) return
    this.#frozen = false
    this.#proc?.signal('SIGCONT')
  }

  async stop(): Promise<void> {
    // A stopped process ignores SIGTERM until it runs again.
    this.thaw()
    await this.#proc?.stop('SIGTERM')
  }

  async kill(): Promise<void> {
    await this.#proc?.kill()
  }

  async copyData(): Promise<DataCopy> {
    const dir = await mkdtemp(join(tmpdir(), 'authlab-redis-copy-'))
    for (const entry of await readdir(this.#dir)) {
      if (entry !== 'redis.log') await cp(join(this.#dir, entry), join(dir, entry), { recursive: true })
    }
    return { dir, discard: () => rm(dir, { recursive: true, force: true }) }
  }

  async restart(opts: { wipeData?: boolean; restoreFrom?: DataCopy } = {}): Promise<void> {
    await this.stop()
    if (opts.wipeData || opts.restoreFrom) await wipeDirectory(this.#dir, ['redis.log', 'redis.conf'])
    if (opts.restoreFrom) await cp(opts.restoreFrom.dir, this.#dir, { recursive: true })
    await this.start()
  }

  async close(): Promise<void> {
    await this.stop()
    await rm(this.#dir, { recursive: true, force: true })
  }
}

/** `--name value…` arguments as redis.conf lines (`name "value" …`). */
export function configFile(args: string[]): string {
  const lines: string[] = []
  for (const arg of args) {
    if (arg.startsWith('--')) lines.push(arg.slice(2))
    else lines[lines.length - 1] += ` ${JSON.stringify(arg)}`
  }
  return `${lines.join('\n')}\n`
}

async function wipeDirectory(dir: string, keep: string[]): Promise<void> {
  for (const entry of await readdir(dir)) {
    if (!keep.includes(entry)) await rm(join(dir, entry), { recursive: true, force: true })
  }
}

export async function startNativeRedis(opts: RedisOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'authlab-redis-'))
  const server = new NativeRedis(opts.port ?? (await freePort()), dir, opts)
  try {
    await server.start()
  } catch (err) {
    await server.close()
    throw err
  }
  return server
}
