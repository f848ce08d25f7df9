import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { AUDIENCE, ISSUER, newKey, serveJwks } from './keys.ts'

// The package as a consumer gets it: packed with pnpm (workspace: and catalog: rewritten, built to
// JavaScript by its prepack, since Node strips no types under node_modules), installed by npm into a
// fresh app outside the workspace, run there by this Node with one mode and no Redis anywhere.
const run = promisify(execFile)
const packages = resolve(import.meta.dirname, '../..')

interface Manifest {
  name: string
  dependencies?: Record<string, string>
  exports?: unknown
}
const manifest = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as Manifest

/** @authlab/verify and every workspace package it depends on at run time, each with its folder. */
async function workspaceClosure(): Promise<Map<string, string>> {
  const folders = new Map<string, string>()
  for (const entry of await readdir(packages)) {
    const name = await manifest(join(packages, entry, 'package.json')).then(
      (m) => m.name,
      () => undefined,
    )
    if (name) folders.set(name, join(packages, entry))
  }
  const closure = new Map<string, string>()
  const visit = async (name: string) => {
    const folder = folders.get(name)
    assert.ok(folder, `${name} is a workspace package under packages/`)
    if (closure.has(name)) return
    closure.set(name, folder)
    for (const [dep, spec] of Object.entries(
      (await manifest(join(folder, 'package.json'))).dependencies ?? {},
    )) {
      if (spec.startsWith('workspace:')) await visit(dep)
    }
  }
  await visit('@authlab/verify')
  return closure
}

/** Runs a command, failing with its output (not skipping) when it fails or outlasts `timeoutMs`. */
async function sh(what: string, file: string, args: string[], cwd: string, timeoutMs: number) {
  // The variables pnpm and npm set for a script they run are not for this npm.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_')))
  try {
    return await run(file, args, { cwd, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 })
  } catch (err) {
    const { stdout, stderr, message } = err as Error & { stdout?: string; stderr?: string }
    throw new Error(`${what} failed: ${message}\n${stdout ?? ''}\n${stderr ?? ''}`)
  }
}

const APP = `import { type VerifyOptions, verify } from '@authlab/verify'
import Fastify from 'fastify'

const options: VerifyOptions = {
  modes: ['jwt'],
  issuer: '${ISSUER}',
  audience: '${AUDIENCE}',
  algorithm: 'EdDSA',
  jwksUrl: process.env.JWKS_URL as string,
  jwksRefreshMs: 60_000,
  clockToleranceMs: 0,
  maxAgeMs: 3_600_000,
  cookieSecure: false,
  verifyCacheSize: 100,
}
const app = Fastify()
await app.register(verify, options)
app.get('/me', { onRequest: app.authenticate('jwt') }, async (request) => request.user)
let unregistered: string | undefined
try {
  app.authenticate('session')
} catch (err) {
  unregistered = (err as { code?: string }).code
}
await app.ready()
const answers: Record<string, { status: number; body: unknown }> = {}
for (const [name, token] of Object.entries(JSON.parse(process.env.TOKENS as string) as Record<string, string>)) {
  const res = await app.inject({ url: '/me', headers: { authorization: \`Bearer \${token}\` } })
  answers[name] = { status: res.statusCode, body: res.json() }
}
const redis = app.hasDecorator('redis') || app.hasDecorator('revocationReader')
await app.close()
// No process.exit: a Redis connection or a feed left open would keep this process alive.
console.log(JSON.stringify({ resolved: import.meta.resolve('@authlab/verify'), redis, unregistered, answers }))
`

test('packed with its workspace dependencies and installed by npm into a fresh app outside the workspace, @authlab/verify verifies a token there with modes [jwt] and no Redis', {
  timeout: 600_000,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'authlab-verify-pack-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const tarballs = join(dir, 'tarballs')
  const appDir = join(dir, 'app')
  await mkdir(appDir)

  const closure = await workspaceClosure()
  for (const name of ['@authlab/verify', '@authlab/contract', '@authlab/revocation', '@authlab/clients']) {
    assert.ok(closure.has(name), `${name} is packed`)
  }
  const dependencies: Record<string, string> = {}
  for (const [name, folder] of closure) {
    const before = new Set(await readdir(tarballs).catch(() => []))
    await sh(`pnpm pack of ${name}`, 'pnpm', ['pack', '--pack-destination', tarballs], folder, 120_000)
    const made = (await readdir(tarballs)).filter((f) => f.endsWith('.tgz') && !before.has(f))
    assert.equal(made.length, 1, `pnpm pack of ${name} made one tarball`)
    dependencies[name] = `file:${join(tarballs, made[0] as string)}`
  }
  // The registry's own fastify and fast-jwt, in the ranges the packed verify asks for.
  const { stdout: packedVerify } = await sh(
    'reading the packed package.json',
    'tar',
    ['-xOzf', (dependencies['@authlab/verify'] as string).slice('file:'.length), 'package/package.json'],
    dir,
    30_000,
  )
  const verifyManifest = JSON.parse(packedVerify) as Manifest
  assert.doesNotMatch(packedVerify, /workspace:|catalog:/, 'pnpm pack rewrote workspace: and catalog:')
  assert.deepEqual(verifyManifest.exports, {
    '.': { types: './dist/pack/src/index.d.ts', default: './dist/pack/src/index.js' },
  })
  for (const name of ['fastify', 'fast-jwt']) {
    dependencies[name] = verifyManifest.dependencies?.[name] as string
    assert.match(dependencies[name], /^\^\d/, `${name}'s range`)
  }
  await writeFile(
    join(appDir, 'package.json'),
    JSON.stringify({
      name: 'authlab-verify-consumer',
      private: true,
      type: 'module',
      dependencies,
      // Each @authlab package a tarball names is this tarball, never one looked up in a registry.
      overrides: Object.fromEntries([...closure.keys()].map((name) => [name, `$${name}`])),
    }),
  )
  await sh(
    'npm install (needs the npm registry)',
    'npm',
    ['install', '--no-audit', '--no-fund'],
    appDir,
    300_000,
  )
  await writeFile(join(appDir, 'app.ts'), APP)

  const signing = newKey()
  const jwks = await serveJwks(() => [signing.jwk])
  t.after(() => jwks.close())
  const [userId, loginId] = [randomUUID(), randomUUID()]
  const valid = signing.sign({ sub: userId, sid: loginId, jti: randomUUID() })
  const [header] = valid.split('.')
  const [, payload, signature] = newKey().sign({ sub: userId, sid: loginId, jti: randomUUID() }).split('.')
  const { stdout } = await run(process.execPath, ['app.ts'], {
    cwd: appDir,
    timeout: 60_000,
    env: {
      ...process.env,
      JWKS_URL: jwks.url,
      TOKENS: JSON.stringify({ valid, forged: `${header}.${payload}.${signature}` }),
    },
  }).catch((err: Error & { stderr?: string }) => {
    throw new Error(`the consumer app failed: ${err.message}\n${err.stderr ?? ''}`)
  })
  const out = JSON.parse(stdout.trim().split('\n').at(-1) as string)
  assert.match(out.resolved, /\/app\/node_modules\/@authlab\/verify\/dist\/pack\/src\/index\.js$/)
  assert.deepEqual(out.answers.valid, { status: 200, body: { userId, loginId, roles: [] } })
  assert.equal(out.answers.forged.status, 401)
  assert.equal(out.unregistered, 'AUTHLAB_VERIFY_MODE_NOT_REGISTERED')
  assert.equal(out.redis, false)
})
