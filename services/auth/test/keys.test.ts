import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { test } from 'node:test'
import { createSigner } from 'fast-jwt'
import { MIGRATIONS_DIR, migrate } from '../src/plugins/app/migrations.ts'
import { rotateSigningKey } from '../src/rotate.ts'
import {
  build,
  introspect,
  registerAndLogin,
  sharedStores,
  startStores,
  stopStores,
  testConfig,
} from './helper.ts'

const migrationVersions = async () =>
  (await readdir(MIGRATIONS_DIR))
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.replace(/\.sql$/, ''))
    .sort()

const stores = sharedStores()

const headerOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())

test('the JWKS lists public keys only, each with kid, alg and use, and is cacheable', async (t) => {
  const app = await build(t, stores())
  const res = await app.inject('/.well-known/jwks.json')
  assert.equal(res.statusCode, 200)
  assert.match(res.headers['cache-control'] as string, /public, max-age=60/)
  const { keys } = res.json()
  assert.ok(keys.length >= 1)
  for (const key of keys) {
    assert.equal(typeof key.kid, 'string')
    assert.equal(key.use, 'sig')
    assert.equal(key.d, undefined, 'no private material')
  }
})

test('the signing key is generated once and kept across restarts', async (t) => {
  const first = await build(t, stores())
  const kid = first.keys.currentKid
  await first.close()
  const second = await build(t, stores())
  assert.equal(second.keys.currentKid, kid)
})

for (const alg of ['ES256', 'RS256'] as const) {
  test(`JWT_ALGORITHM=${alg} signs with a ${alg} key that introspect verifies`, async (t) => {
    const app = await build(t, stores(), { JWT_ALGORITHM: alg })
    const { login } = await registerAndLogin(app)
    assert.equal(headerOf(login.accessToken).alg, alg)
    assert.equal((await introspect(app, login.accessToken)).json().active, true)
  })
}

test('rotation publishes the new key before it signs, then signs with it; old tokens still verify', async (t) => {
  const app = await build(t, stores())
  const { login } = await registerAndLogin(app)
  const oldKid = headerOf(login.accessToken).kid
  const config = testConfig(stores())
  const { kid } = await rotateSigningKey(app.pg, config, 3600)
  await app.keys.reload()
  const published = (await app.inject('/.well-known/jwks.json'))
    .json()
    .keys.map((k: { kid: string }) => k.kid)
  assert.ok(published.includes(kid), 'the pending key is in the JWKS')
  assert.equal(app.keys.currentKid, oldKid, 'but does not sign yet')

  const { kid: active } = await rotateSigningKey(app.pg, config, 0)
  await app.keys.reload()
  assert.equal(app.keys.currentKid, active)
  const fresh = await registerAndLogin(app)
  assert.equal(headerOf(fresh.login.accessToken).kid, active)
  const keys = (await app.inject('/.well-known/jwks.json')).json().keys.map((k: { kid: string }) => k.kid)
  assert.ok(keys.includes(oldKid), 'the previous key stays in the set')
  assert.equal(
    (await introspect(app, login.accessToken)).json().active,
    true,
    'a token of the previous key verifies',
  )
})

test('a token with an unknown kid is rejected even when its signature is valid for that key', async (t) => {
  const app = await build(t, stores())
  const { login } = await registerAndLogin(app)
  const claims = JSON.parse(Buffer.from(login.accessToken.split('.')[1], 'base64url').toString())
  const { privateKey } = generateKeyPairSync('ed25519')
  const sign = createSigner({
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    algorithm: 'EdDSA',
    kid: 'attacker-key',
    header: { typ: 'at+jwt', alg: 'EdDSA' },
  })
  const forged = sign({ ...claims })
  assert.deepEqual((await introspect(app, forged)).json(), { active: false })
})

test('migrations re-run safely: a second run applies nothing and data survives', async (t) => {
  const app = await build(t, stores())
  const { userId } = await registerAndLogin(app)
  assert.deepEqual(await migrate(app.pg), [])
  const { rows } = await app.pg.query('SELECT version FROM schema_migrations')
  assert.deepEqual(rows.map((r) => r.version).sort(), await migrationVersions())
  assert.equal((await app.pg.query('SELECT 1 FROM users WHERE id = $1', [userId])).rowCount, 1)
})

test('replicas starting at once apply the migrations once (advisory lock)', async () => {
  const fresh = await startStores()
  const { createPool } = await import('@authlab/clients')
  const pool = createPool({
    connectionString: fresh.postgres.url,
    max: 4,
    connectTimeoutMs: 5000,
    statementTimeoutMs: 20000,
  })
  pool.on('error', () => {})
  try {
    const results = await Promise.all([migrate(pool), migrate(pool), migrate(pool)])
    assert.deepEqual(results.flat(), await migrationVersions())
  } finally {
    await pool.end()
    await stopStores(fresh)
  }
})
