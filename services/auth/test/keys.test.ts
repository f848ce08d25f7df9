import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createSigner } from 'fast-jwt'
import pg from 'pg'
import { loadAuthConfig } from '../src/config.ts'
import { loadKek, loadKeks, unsealPrivateKey } from '../src/plugins/app/key-seal.ts'
import { generatePrivateKeyPem, insertKey, publicJwkOf } from '../src/plugins/app/keys.ts'
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

test('private keys are sealed at rest: private_pem holds no PEM, and a key left in plaintext is sealed at start', async (t) => {
  const s = await startStores()
  t.after(() => stopStores(s))
  const admin = new pg.Pool({ connectionString: s.postgres.url })
  admin.on('error', () => {}) // the stores stop after this test, under any idle connection
  await migrate(admin)
  // A key as stored before migration 003: plaintext.
  const legacyPem = generatePrivateKeyPem('EdDSA')
  const legacy = publicJwkOf(legacyPem, 'EdDSA')
  await admin.query(
    `INSERT INTO signing_keys (kid, alg, public_jwk, private_pem, activates_at) VALUES ($1, 'EdDSA', $2, $3, now())`,
    [legacy.kid, legacy, legacyPem],
  )
  const app = await build(t, s)
  assert.equal(app.keys.currentKid, legacy.kid, 'the sealed legacy key still signs')
  const { rows } = await admin.query<{ private_pem: string | null; private_sealed: string }>(
    'SELECT private_pem, private_sealed FROM signing_keys',
  )
  assert.ok(rows.length >= 1)
  for (const row of rows) {
    assert.equal(row.private_pem, null)
    assert.doesNotMatch(row.private_sealed, /PRIVATE KEY|BEGIN/)
    assert.doesNotMatch(
      Buffer.from(row.private_sealed.split('.')[2] ?? '', 'base64url').toString('latin1'),
      /PRIVATE KEY/,
    )
  }
  await admin.end()
  const { login } = await registerAndLogin(app)
  assert.equal((await introspect(app, login.accessToken)).json().active, true)
})

test('another key-encryption key cannot open the keys: auth refuses to start, naming the cause', async (t) => {
  const s = await startStores()
  t.after(() => stopStores(s))
  const kek = (n: number) => Buffer.alloc(32, n).toString('base64')
  const first = await build(t, s, { KEY_ENCRYPTION_KEY: kek(1) })
  await first.close()
  await assert.rejects(build(t, s, { KEY_ENCRYPTION_KEY: kek(2) }), { code: 'AUTHLAB_KEY_ENCRYPTION_KEY' })
  const again = await build(t, s, { KEY_ENCRYPTION_KEY: kek(1) })
  assert.ok(again.keys.currentKid)
})

const composeDefault = 'ZGV2LW9ubHktYXV0aGxhYi1rZWstY2hhbmdlLW1lISE='
const namesTheVariables = (err: unknown) => {
  const { code, message } = err as { code: string; message: string }
  assert.equal(code, 'AUTHLAB_CONFIG_INVALID')
  assert.match(message, /NODE_ENV=production/)
  assert.match(message, /KEY_ENCRYPTION_KEY or KEY_ENCRYPTION_KEY_FILE/)
  return true
}

test("NODE_ENV=production refuses a development key-encryption key (built-in, compose's, or in a file), naming the variables; development uses it; a short one is refused anywhere", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'authlab-kek-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'kek')
  await writeFile(file, `${composeDefault}\n`)
  for (const kek of [{}, { KEY_ENCRYPTION_KEY: composeDefault }, { KEY_ENCRYPTION_KEY_FILE: file }]) {
    assert.throws(() => loadKek({ ...kek, NODE_ENV: 'production' }), namesTheVariables)
    // At configuration time, before auth connects to anything.
    assert.throws(() => loadAuthConfig({ ...kek, NODE_ENV: 'production' }), namesTheVariables)
    assert.equal(loadKek(kek).development, true, 'development keeps its convenience')
    assert.equal(loadKek({ ...kek, NODE_ENV: 'development' }).development, true)
    loadAuthConfig(kek)
  }
  const own = Buffer.alloc(32, 7).toString('base64')
  assert.equal(loadAuthConfig({ NODE_ENV: 'production', KEY_ENCRYPTION_KEY: own }).NODE_ENV, 'production')
  // Leaving the development key is what KEY_ENCRYPTION_KEY_PREVIOUS is for, in production too.
  const keks = loadKeks({
    NODE_ENV: 'production',
    KEY_ENCRYPTION_KEY: own,
    KEY_ENCRYPTION_KEY_PREVIOUS: composeDefault,
  })
  assert.equal(keks.current.development, false)
  assert.equal(keks.previous?.development, true)
  assert.throws(() => loadKek({ KEY_ENCRYPTION_KEY: 'c2hvcnQ=' }), /32 bytes/)
  assert.throws(
    () => loadKeks({ KEY_ENCRYPTION_KEY: own, KEY_ENCRYPTION_KEY_PREVIOUS: 'c2hvcnQ=' }),
    /PREVIOUS.*32 bytes/,
  )
})

test('the auth process started with NODE_ENV=production and no key-encryption key of its own exits 1, naming the variables', () => {
  const server = join(import.meta.dirname, '../src/server.ts')
  for (const kek of [{}, { KEY_ENCRYPTION_KEY: composeDefault }]) {
    const { status, stderr } = spawnSync(process.execPath, [server], {
      // Nothing listens at these addresses: the refusal comes before any connection.
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://authlab_app:x@127.0.0.1:1/authlab',
        REDIS_URL: 'redis://127.0.0.1:1',
        PORT: '0',
        ...kek,
      },
      encoding: 'utf8',
      timeout: 20_000,
    })
    assert.equal(status, 1, stderr)
    assert.match(
      stderr,
      /auth did not start: AUTHLAB_CONFIG_INVALID: .*KEY_ENCRYPTION_KEY or KEY_ENCRYPTION_KEY_FILE/,
    )
  }
})

test('KEK rotation: started with the previous KEK as KEY_ENCRYPTION_KEY_PREVIOUS, auth re-seals every key under the current one; then the previous is no longer needed', async (t) => {
  const s = await startStores()
  t.after(() => stopStores(s))
  const kek = (n: number) => Buffer.alloc(32, n).toString('base64')
  const [A, B] = [kek(1), kek(2)]
  const rotating = { KEY_ENCRYPTION_KEY: B, KEY_ENCRYPTION_KEY_PREVIOUS: A }
  const admin = new pg.Pool({ connectionString: s.postgres.url, max: 1 })
  admin.on('error', () => {})
  t.after(() => admin.end())
  const rows = async () =>
    (
      await admin.query<{ kid: string; private_sealed: string }>(
        'SELECT kid, private_sealed FROM signing_keys',
      )
    ).rows
  const opensWith = async (key: string) => {
    const all = await rows()
    return all.every((row) => {
      try {
        unsealPrivateKey(loadKek({ KEY_ENCRYPTION_KEY: key }), row.kid, row.private_sealed)
        return true
      } catch {
        return false
      }
    })
  }

  // Keys sealed under A: the signing one, and a pending one from a rotation.
  const underA = await build(t, s, { KEY_ENCRYPTION_KEY: A })
  const { login } = await registerAndLogin(underA)
  const signingKid = underA.keys.currentKid
  await rotateSigningKey(underA.pg, testConfig(s, { KEY_ENCRYPTION_KEY: A }), 3600)
  await underA.close()
  assert.equal((await rows()).length, 2)
  assert.ok(await opensWith(A))

  // Two replicas start at once with current=B, previous=A: one re-seals, the other finds it done.
  const [one, two] = await Promise.all([build(t, s, rotating), build(t, s, rotating)])
  assert.ok(await opensWith(B), 'every key is sealed under B now')
  assert.ok(!(await opensWith(A)))
  assert.equal(one.keys.currentKid, signingKid, 'the same key signs')
  assert.equal((await introspect(two, login.accessToken)).json().active, true, 'a token from before verifies')
  const fresh = await registerAndLogin(two)
  assert.equal(headerOf(fresh.login.accessToken).kid, signingKid)
  assert.equal((await introspect(one, fresh.login.accessToken)).json().active, true)
  // During the rollout a replica still on A adds a key sealed under A: the new ones load it too,
  // and their next start re-seals it.
  const lateKid = await insertKey(
    admin,
    loadKek({ KEY_ENCRYPTION_KEY: A }),
    generatePrivateKeyPem('EdDSA'),
    'EdDSA',
    new Date(),
  )
  await one.keys.reload()
  assert.equal(one.keys.currentKid, lateKid)
  await Promise.all([one.close(), two.close()])
  await (await build(t, s, rotating)).close()
  assert.ok(await opensWith(B))

  // The previous KEK is no longer needed: B alone works, A alone no longer opens the keys.
  const onlyB = await build(t, s, { KEY_ENCRYPTION_KEY: B })
  assert.equal(onlyB.keys.currentKid, lateKid)
  assert.equal((await introspect(onlyB, login.accessToken)).json().active, true)
  const again = await registerAndLogin(onlyB)
  assert.equal((await introspect(onlyB, again.login.accessToken)).json().active, true)
  await onlyB.close()
  await assert.rejects(build(t, s, { KEY_ENCRYPTION_KEY: A }), { code: 'AUTHLAB_KEY_ENCRYPTION_KEY' })

  // A key that opens under neither KEK stops the start, naming both, and nothing is re-sealed.
  await assert.rejects(build(t, s, { KEY_ENCRYPTION_KEY: kek(3), KEY_ENCRYPTION_KEY_PREVIOUS: A }), {
    code: 'AUTHLAB_KEY_ENCRYPTION_KEY',
    message: /opens under neither KEY_ENCRYPTION_KEY nor KEY_ENCRYPTION_KEY_PREVIOUS/,
  })
  assert.ok(await opensWith(B))
})

test('scheduled rotation adds the next key on time, published before it signs; retired keys are deleted', async (t) => {
  const s = await startStores()
  t.after(() => stopStores(s))
  const app = await build(t, s, {
    KEY_ROTATION_INTERVAL_S: '2',
    JWT_KEY_PUBLISH_DELAY_S: '1',
    KEY_RELOAD_INTERVAL_MS: '100',
    ACCESS_TOKEN_TTL_S: '1',
    JWT_CLOCK_TOLERANCE_S: '0',
  })
  const first = app.keys.currentKid
  const seen = new Set<string>()
  const deadline = Date.now() + 9000
  while (Date.now() < deadline && seen.size < 4) {
    const published = (await app.inject('/.well-known/jwks.json'))
      .json()
      .keys.map((k: { kid: string }) => k.kid)
    const current = app.keys.currentKid as string
    assert.ok(published.includes(current), 'the signing key is always published')
    seen.add(current)
    await new Promise((r) => setTimeout(r, 100))
  }
  assert.ok(seen.size >= 3, `keys that signed: ${seen.size}`)
  const { rows } = await app.pg.query<{ kid: string }>('SELECT kid FROM signing_keys')
  assert.ok(!rows.some((r) => r.kid === first), 'the first key, retired, is gone from the database')
  assert.ok(rows.length <= 3, `rows kept: ${rows.length}`)
  await app.close() // before the stores stop under its rotation timer
})
