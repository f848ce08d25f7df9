import { chmod, cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { processTreeCpuTimeMs } from './cpu.ts'
import { findBinary, ManagedProcess, waitUntil } from './process.ts'

export interface NginxServer {
  readonly dir: string
  readonly accessLog: string
  pid(): number
  cpuTimeMs(): Promise<number>
  /** Writes a new `http`-level config and reloads gracefully (SIGHUP): no connection is dropped. */
  reload(httpConfig: string): Promise<void>
  close(): Promise<void>
}

export interface NginxOptions {
  /** Content of the `http` block (server/upstream blocks). `${ACCESS_LOG}` and `${STATIC_DIR}` are filled in here. */
  httpConfig: string
  /** host:port the config listens on, to wait for. */
  listen: { host: string; port: number }
  workerProcesses?: number
  /**
   * Directories nginx serves, by name, copied into its prefix and named in `httpConfig` as
   * `${STATIC_DIR}/<name>`: its workers run as `nobody` when the master is root, and may not be
   * able to read a checkout (a clone in a private temporary directory answered 403).
   */
  staticDirs?: Record<string, string>
}

// The gateway template names its access log with this placeholder; only nginx's owner knows the path.
const ACCESS_LOG_PLACEHOLDER = '$' + '{ACCESS_LOG}'
const STATIC_DIR_PLACEHOLDER = '$' + '{STATIC_DIR}'

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port }, () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** A real nginx master + workers in a temporary prefix, in the foreground (daemon off). */
export async function startNginx(opts: NginxOptions): Promise<NginxServer> {
  const dir = await mkdtemp(join(tmpdir(), 'authlab-nginx-'))
  // Workers drop to `nobody` when the master is root; they must be able to reach the temp dirs.
  await chmod(dir, 0o755)
  const accessLog = join(dir, 'access.log')
  const staticDir = join(dir, 'static')
  for (const [name, source] of Object.entries(opts.staticDirs ?? {})) {
    const copy = join(staticDir, name)
    await cp(source, copy, { recursive: true })
    // cp keeps the source's modes, and a private directory stays private.
    await chmod(staticDir, 0o755)
    await chmod(copy, 0o755)
    for (const entry of await readdir(copy, { recursive: true, withFileTypes: true })) {
      await chmod(join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644)
    }
  }
  const confFile = join(dir, 'nginx.conf')
  const render = (http: string) => `
worker_processes ${opts.workerProcesses ?? 1};
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  default_type application/json;
${http.replaceAll(ACCESS_LOG_PLACEHOLDER, accessLog).replaceAll(STATIC_DIR_PLACEHOLDER, staticDir)}
}
`
  await writeFile(confFile, render(opts.httpConfig))
  const bin = findBinary('nginx', ['/usr/sbin'])
  const proc = new ManagedProcess({
    name: `nginx :${opts.listen.port}`,
    command: bin,
    args: ['-p', dir, '-c', confFile, '-e', join(dir, 'error.log'), '-g', 'daemon off;'],
    logFile: join(dir, 'stderr.log'),
    parentDeathSignal: 'TERM',
  })
  try {
    await waitUntil(proc, () => tcpOpen(opts.listen.host, opts.listen.port))
  } catch (err) {
    await proc.kill()
    await rm(dir, { recursive: true, force: true })
    throw err
  }
  return {
    dir,
    accessLog,
    pid: () => (proc.running ? proc.pid : -1),
    cpuTimeMs: () => processTreeCpuTimeMs(proc.pid),
    async reload(httpConfig: string) {
      await writeFile(confFile, render(httpConfig))
      process.kill(proc.pid, 'SIGHUP')
    },
    async close() {
      // SIGQUIT = graceful: workers finish their requests first.
      await proc.stop('SIGQUIT')
      await rm(dir, { recursive: true, force: true })
    },
  }
}
