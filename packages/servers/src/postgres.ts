import { execFile } from 'node:child_process'
import { chown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { processTreeCpuTimeMs } from './cpu.ts'
import { BinaryNotFoundError } from './errors.ts'
import { findBinary, freePort, ManagedProcess, waitUntil } from './process.ts'

const run = promisify(execFile)

export interface PostgresServer {
  readonly kind: 'native' | 'container'
  readonly host: string
  readonly port: number
  /** postgres://user:password@host:port/database */
  readonly url: string
  readonly running: boolean
  pid(): number
  cpuTimeMs(): Promise<number>
  stop(): Promise<void>
  start(): Promise<void>
  close(): Promise<void>
}

export interface PostgresOptions {
  port?: number
  user?: string
  password?: string
  database?: string
}

/** Debian installs server binaries off PATH, under /usr/lib/postgresql/<major>/bin. */
async function postgresBinDir(): Promise<string[]> {
  const dirs = process.env.PG_BIN_DIR ? [process.env.PG_BIN_DIR] : []
  const versions = await readdir('/usr/lib/postgresql').catch(() => [] as string[])
  versions.sort((a, b) => Number(b) - Number(a))
  return [...dirs, ...versions.map((v) => `/usr/lib/postgresql/${v}/bin`)]
}

export async function hasNativePostgres(): Promise<boolean> {
  try {
    findBinary('postgres', await postgresBinDir())
    return true
  } catch {
    return false
  }
}

/** initdb and postgres refuse to run as root; when we are root they run as the `postgres` user. */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined
  try {
    const { stdout } = await run('id', ['-u', 'postgres'])
    const { stdout: gid } = await run('id', ['-g', 'postgres'])
    return { uid: Number(stdout.trim()), gid: Number(gid.trim()) }
  } catch {
    throw new BinaryNotFoundError(
      'the postgres system user',
      'running as root needs it to own the data directory',
    )
  }
}

class NativePostgres implements PostgresServer {
  readonly kind = 'native' as const
  readonly host = '127.0.0.1'
  readonly port: number
  readonly #dir: string
  readonly #bin: string
  readonly #opts: Required<PostgresOptions>
  readonly #user: { uid: number; gid: number } | undefined
  #proc: ManagedProcess | undefined

  constructor(
    port: number,
    dir: string,
    bin: string,
    opts: Required<PostgresOptions>,
    user: { uid: number; gid: number } | undefined,
  ) {
    this.port = port
    this.#dir = dir
    this.#bin = bin
    this.#opts = opts
    this.#user = user
  }

  get url(): string {
    const { user, password, database } = this.#opts
    return `postgres://${user}:${encodeURIComponent(password)}@${this.host}:${this.port}/${database}`
  }

  get running(): boolean {
    return this.#proc?.running ?? false
  }

  pid(): number {
    return this.#proc?.running ? this.#proc.pid : -1
  }

  cpuTimeMs(): Promise<number> {
    return processTreeCpuTimeMs(this.pid())
  }

  async init(): Promise<void> {
    const pwfile = join(this.#dir, 'pwfile')
    await writeFile(pwfile, this.#opts.password)
    await mkdir(join(this.#dir, 'data'))
    await mkdir(join(this.#dir, 'socket'))
    if (this.#user) {
      for (const p of [this.#dir, pwfile, join(this.#dir, 'data'), join(this.#dir, 'socket')]) {
        await chown(p, this.#user.uid, this.#user.gid)
      }
    }
    await run(
      join(this.#bin, 'initdb'),
      [
        '-D',
        join(this.#dir, 'data'),
        '-U',
        this.#opts.user,
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--no-locale',
        '--no-sync',
      ],
      { ...(this.#user ?? {}), cwd: this.#dir },
    )
  }

  async start(): Promise<void> {
    if (this.running) return
    this.#proc = new ManagedProcess({
      name: `postgres :${this.port}`,
      command: join(this.#bin, 'postgres'),
      args: [
        '-D',
        join(this.#dir, 'data'),
        '-p',
        String(this.port),
        '-k',
        join(this.#dir, 'socket'),
        '-c',
        'listen_addresses=127.0.0.1',
        // Throwaway data: durability buys nothing here and costs seconds per test file.
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=200',
      ],
      logFile: join(this.#dir, 'postgres.log'),
      cwd: this.#dir,
      ...(this.#user ?? {}),
    })
    const isReady = join(this.#bin, 'pg_isready')
    await waitUntil(this.#proc, async () => {
      await run(isReady, ['-q', '-h', this.host, '-p', String(this.port), '-U', this.#opts.user])
      return true
    })
  }

  async createDatabase(): Promise<void> {
    await run(
      join(this.#bin, 'createdb'),
      ['-h', this.host, '-p', String(this.port), '-U', this.#opts.user, this.#opts.database],
      { env: { ...process.env, PGPASSWORD: this.#opts.password } },
    )
  }

  async stop(): Promise<void> {
    // SIGINT is postgres' "fast" shutdown: roll back open transactions, exit cleanly.
    await this.#proc?.stop('SIGINT')
  }

  async close(): Promise<void> {
    await this.stop()
    await rm(this.#dir, { recursive: true, force: true })
  }
}

export async function startNativePostgres(opts: PostgresOptions = {}): Promise<PostgresServer> {
  const bin = findBinary('postgres', await postgresBinDir()).replace(/\/postgres$/, '')
  const dir = await mkdtemp(join(tmpdir(), 'authlab-pg-'))
  const server = new NativePostgres(
    opts.port ?? (await freePort()),
    dir,
    bin,
    {
      port: 0,
      user: opts.user ?? 'authlab',
      password: opts.password ?? 'authlab',
      database: opts.database ?? 'authlab',
    },
    await serverUser(),
  )
  try {
    await server.init()
    await server.start()
    await server.createDatabase()
  } catch (err) {
    await server.close()
    throw err
  }
  return server
}
