import { PostgreSqlContainer, type StartedPostgreSqlContainer } from '@testcontainers/postgresql'
import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis'
import { getContainerRuntimeClient } from 'testcontainers'
import { UnsupportedOperationError } from './errors.ts'
import type { PostgresOptions, PostgresServer } from './postgres.ts'
import type { DataCopy, RedisOptions, RedisServer } from './redis.ts'
import {
  newRedisPasswords,
  type RedisPasswords,
  type RedisRole,
  redisUrlFor,
  renderAcl,
} from './redis-acl.ts'

// The same variables docker-compose.yml reads, so one override points both at a local mirror.
const redisImage = () => process.env.REDIS_IMAGE ?? 'redis:7.4'
const postgresImage = () => process.env.POSTGRES_IMAGE ?? 'postgres:17'

export async function dockerAnswers(): Promise<boolean> {
  try {
    await getContainerRuntimeClient()
    return true
  } catch {
    return false
  }
}

class ContainerRedis implements RedisServer {
  readonly kind = 'container' as const
  #container: StartedRedisContainer
  readonly #passwords: RedisPasswords
  #stopped = false

  constructor(container: StartedRedisContainer, passwords: RedisPasswords) {
    this.#container = container
    this.#passwords = passwords
  }

  get host(): string {
    return this.#container.getHost()
  }
  get port(): number {
    return this.#container.getPort()
  }
  get url(): string {
    return this.urlFor('admin')
  }
  urlFor(role: RedisRole): string {
    return redisUrlFor(role, this.#passwords, this.host, this.port)
  }
  get running(): boolean {
    return !this.#stopped
  }
  pid(): number {
    return -1
  }
  async cpuTimeMs(): Promise<number> {
    return 0
  }
  async start(): Promise<void> {
    throw new UnsupportedOperationError('restarting a stopped Redis container: use the native servers')
  }
  async stop(): Promise<void> {
    throw new UnsupportedOperationError('stopping Redis mid-test: use the native servers')
  }
  async kill(): Promise<void> {
    throw new UnsupportedOperationError('killing Redis mid-test: use the native servers')
  }
  freeze(): void {
    throw new UnsupportedOperationError('freezing Redis mid-test: use the native servers')
  }
  thaw(): void {}
  async copyData(): Promise<DataCopy> {
    throw new UnsupportedOperationError('copying Redis data mid-test: use the native servers')
  }

  async restart(opts: { wipeData?: boolean; restoreFrom?: DataCopy } = {}): Promise<void> {
    if (opts.restoreFrom) throw new UnsupportedOperationError('restoring Redis data: use the native servers')
    if (opts.wipeData) throw new UnsupportedOperationError('wiping Redis data: use the native servers')
    await this.#container.restart()
  }
  async close(): Promise<void> {
    this.#stopped = true
    await this.#container.stop()
  }
}

class ContainerPostgres implements PostgresServer {
  readonly kind = 'container' as const
  #container: StartedPostgreSqlContainer
  #stopped = false

  constructor(container: StartedPostgreSqlContainer) {
    this.#container = container
  }
  get host(): string {
    return this.#container.getHost()
  }
  get port(): number {
    return this.#container.getPort()
  }
  get url(): string {
    return this.#container.getConnectionUri()
  }
  get running(): boolean {
    return !this.#stopped
  }
  pid(): number {
    return -1
  }
  async cpuTimeMs(): Promise<number> {
    return 0
  }
  async start(): Promise<void> {
    throw new UnsupportedOperationError('restarting a stopped Postgres container: use the native servers')
  }
  async stop(): Promise<void> {
    throw new UnsupportedOperationError('stopping Postgres mid-test: use the native servers')
  }
  async close(): Promise<void> {
    this.#stopped = true
    await this.#container.stop()
  }
}

export async function startRedisContainer(opts: RedisOptions = {}): Promise<RedisServer> {
  const passwords = newRedisPasswords()
  const container = await new RedisContainer(redisImage())
    .withCopyContentToContainer([{ content: renderAcl(passwords), target: '/tmp/users.acl', mode: 0o644 }])
    .withCommand([
      'redis-server',
      '--appendonly',
      opts.appendonly === false ? 'no' : 'yes',
      '--aclfile',
      '/tmp/users.acl',
      ...(opts.args ?? []),
    ])
    .start()
  return new ContainerRedis(container, passwords)
}

export async function startPostgresContainer(opts: PostgresOptions = {}): Promise<PostgresServer> {
  const container = await new PostgreSqlContainer(postgresImage())
    .withUsername(opts.user ?? 'authlab')
    .withPassword(opts.password ?? 'authlab')
    .withDatabase(opts.database ?? 'authlab')
    .start()
  return new ContainerPostgres(container)
}
