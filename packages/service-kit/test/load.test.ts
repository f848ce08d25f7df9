import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Type } from 'typebox'
import {
  ConfigInvalidError,
  editDistance,
  JwtEnv,
  loadConfig,
  PostgresEnv,
  RedisEnv,
  ServerEnv,
  unknownVariables,
  warnUnknownVariables,
} from '../src/index.ts'

const Schema = Type.Object({ ...ServerEnv, ...PostgresEnv, PORT: Type.Integer({ default: 3000 }) })

test('defaults apply when the environment is empty, so the service starts natively', () => {
  const config = loadConfig(Schema, {})
  assert.equal(config.HOST, '127.0.0.1')
  assert.equal(config.PORT, 3000)
  assert.equal(config.PG_CONNECT_TIMEOUT_MS, 2000)
})

test('numeric variables are coerced from their string form', () => {
  const config = loadConfig(Schema, { PORT: '8081', PG_POOL_MAX: '3' })
  assert.equal(config.PORT, 8081)
  assert.equal(config.PG_POOL_MAX, 3)
})

test('an invalid value fails at start with AUTHLAB_CONFIG_INVALID naming the variable', () => {
  assert.throws(
    () => loadConfig(Schema, { PORT: 'eighty', LOG_LEVEL: 'loud' }),
    (err: Error & { code?: string }) => {
      assert.ok(err instanceof ConfigInvalidError)
      assert.equal(err.code, 'AUTHLAB_CONFIG_INVALID')
      assert.match(err.message, /PORT/)
      return true
    },
  )
})

test('unknown variables are dropped so the config is exactly the schema', () => {
  const config = loadConfig(Schema, { SOMETHING_ELSE: 'x' }) as Record<string, unknown>
  assert.equal(config.SOMETHING_ELSE, undefined)
})

test('an empty variable counts as unset, so its default applies', () => {
  const config = loadConfig(Schema, { PORT: '', HOST: '' })
  assert.equal(config.PORT, 3000)
  assert.equal(config.HOST, '127.0.0.1')
})

// A service's schema as the services build theirs: shared fragments and its own settings.
const Service = Type.Object({
  ...ServerEnv,
  ...RedisEnv,
  ...PostgresEnv,
  ...JwtEnv,
  PORT: Type.Integer({ default: 3001 }),
  NODE_ENV: Type.String({ default: 'development' }),
  SESSION_CACHE_TTL_MS: Type.Integer({ default: 2000 }),
  ACCESS_TOKEN_TTL_S: Type.Integer({ default: 300 }),
  DENYLIST_FAIL_OPEN: Type.Boolean({ default: false }),
})

test('variables that look like ours but that the schema does not read are reported; the rest are not', () => {
  const env = {
    // Known: never reported.
    SESSION_CACHE_TTL_MS: '2000',
    REDIS_URL: 'redis://127.0.0.1',
    NODE_ENV: 'production',
    PORT: '3001',
    HOST: '0.0.0.0',
    // Misspelt, one or two edits from a known name.
    SESION_CACHE_TTL_MS: '500',
    SESSION_CAHCE_TTL_MS: '500',
    DENYLIST_FAIL_OPN: 'true',
    JWT_AUDIENSE: 'x',
    HSOT: '0.0.0.0',
    log_level: 'debug',
    // A prefix of the schema's own names, though far from every name.
    SESSION_CACHE_TTL_SECONDS: '2',
    REDIS_PASSWORD: 'x',
    ACCESS_TOKEN_TTL: '60',
    DATABASE_POOL: '3',
    PG_POOL_SIZE: '3',
    // Not ours: the system's, Node's, other tools'.
    PATH: '/usr/bin',
    HOME: '/root',
    HOSTNAME: 'box',
    USER: 'root',
    PWD: '/',
    TERM: 'xterm',
    SHELL: '/bin/sh',
    LANG: 'C.UTF-8',
    NODE_OPTIONS: '--enable-source-maps',
    NODE_VERSION: '24.10.0',
    npm_config_user_agent: 'pnpm',
    CI: 'true',
    AUTHLAB_SERVERS: 'native',
    GATEWAY_PORT: '8080',
    REPLICAS: '3',
  }
  assert.deepEqual(unknownVariables(Service, env), [
    { name: 'ACCESS_TOKEN_TTL', suggestion: 'ACCESS_TOKEN_TTL_S' },
    { name: 'DATABASE_POOL' },
    { name: 'DENYLIST_FAIL_OPN', suggestion: 'DENYLIST_FAIL_OPEN' },
    { name: 'HSOT', suggestion: 'HOST' },
    { name: 'JWT_AUDIENSE', suggestion: 'JWT_AUDIENCE' },
    { name: 'PG_POOL_SIZE' },
    { name: 'REDIS_PASSWORD' },
    { name: 'SESION_CACHE_TTL_MS', suggestion: 'SESSION_CACHE_TTL_MS' },
    { name: 'SESSION_CACHE_TTL_SECONDS' },
    { name: 'SESSION_CAHCE_TTL_MS', suggestion: 'SESSION_CACHE_TTL_MS' },
    { name: 'log_level', suggestion: 'LOG_LEVEL' },
  ])
  assert.deepEqual(unknownVariables(Service, { PATH: '/usr/bin', HOME: '/root' }), [])
  assert.deepEqual(unknownVariables(Service, {}), [])
})

test('the unknown variables are one warning line naming them all; none, no line', () => {
  const lines: { fields: object; message: string }[] = []
  const log = { warn: (fields: object, message: string) => lines.push({ fields, message }) }
  const env = { SESION_CACHE_TTL_MS: '500', REDIS_PASSWORD: 'x', PATH: '/usr/bin', HOME: '/root' }
  const reported = warnUnknownVariables(log, Service, env)
  assert.equal(reported.length, 2)
  assert.equal(lines.length, 1)
  assert.deepEqual(lines[0]?.fields, { unknownVariables: ['REDIS_PASSWORD', 'SESION_CACHE_TTL_MS'] })
  assert.match(
    lines[0]?.message ?? '',
    /REDIS_PASSWORD, SESION_CACHE_TTL_MS \(did you mean SESSION_CACHE_TTL_MS\?\)$/,
  )
  assert.doesNotMatch(lines[0]?.message ?? '', /PATH|HOME/)
  warnUnknownVariables(log, Service, { PATH: '/usr/bin' })
  assert.equal(lines.length, 1)
})

test('editDistance counts insertions, deletions, substitutions and adjacent swaps', () => {
  const table: [string, string, number][] = [
    ['HOST', 'HOST', 0],
    ['HOST', 'HSOT', 1],
    ['HOST', 'HOME', 2],
    ['PORT', 'PATH', 3],
    ['SESSION_CACHE_TTL_MS', 'SESION_CACHE_TTL_MS', 1],
    ['', 'ABC', 3],
  ]
  for (const [a, b, d] of table) {
    assert.equal(editDistance(a, b), d, `${a} ${b}`)
    assert.equal(editDistance(b, a), d, `${b} ${a}`)
  }
  assert.equal(editDistance('ABCDEFGH', 'HGFEDCBA', 2), 3, 'stops past the limit')
})
