import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Type } from 'typebox'
import { ConfigInvalidError, loadConfig, PostgresEnv, ServerEnv } from '../src/index.ts'

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
