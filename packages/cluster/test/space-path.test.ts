// A checkout whose path holds a space: its file URLs carry %20, which `new URL(…).pathname` kept
// (and then named no file). The test copies the workspace into such a directory, a real copy, so
// Node's module resolution (which follows symlinks to their real path) runs from there: the
// sources copied, each package's node_modules (pnpm's relative symlinks) copied as they are, the
// root node_modules hard-linked (same file system) or copied. Then it resolves what the runner
// reaches through the manifests and starts the native cluster from the copy with the CLI: 1 replica
// each, standalone Redis, and requests through the gateway. Everything is bounded (~90 s at most).
import assert from 'node:assert/strict'
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdtemp, realpath, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative, sep } from 'node:path'
import { test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { freePort } from '@authlab/servers'

const ROOT = join(import.meta.dirname, '../../..')
// Not copied: history, tools and build output; the root node_modules is linked separately.
const SKIPPED = new Set(['.git', '.tools', '.cache', 'node_modules', join('loadtest', 'results')])
const run = promisify(execFile)

async function copyWorkspace(dest: string): Promise<void> {
  await cp(ROOT, dest, {
    recursive: true,
    verbatimSymlinks: true, // pnpm's links are relative: they must stay so, into the copy
    filter: (source) => {
      const rel = relative(ROOT, source)
      const name = rel.split(sep).at(-1) ?? ''
      return !SKIPPED.has(rel) && name !== 'dist' && !name.endsWith('.tsbuildinfo')
    },
  })
  await run('cp', ['-al', join(ROOT, 'node_modules'), join(dest, 'node_modules')]).catch(() =>
    run('cp', ['-a', join(ROOT, 'node_modules'), join(dest, 'node_modules')]),
  )
}

function waitForLine(child: ChildProcess, output: () => string, text: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer)
      child.stdout?.off('data', check)
      child.off('exit', exited)
      if (err) reject(err)
      else resolve()
    }
    const check = () => {
      if (output().includes(text)) done()
    }
    const exited = () => done(new Error(`the cluster CLI exited:\n${output()}`))
    const timer = setTimeout(() => done(new Error(`no "${text}" within ${ms} ms:\n${output()}`)), ms)
    child.stdout?.on('data', check)
    child.once('exit', exited)
    check()
  })
}

test('from a checkout whose path holds a space, the runner finds every file and the cluster answers through its gateway', {
  timeout: 120_000,
}, async (t) => {
  const tmp = await realpath(await mkdtemp(join(tmpdir(), 'authlab path with space-')))
  t.after(() => rm(tmp, { recursive: true, force: true }))
  const copy = join(tmp, 'main')
  await copyWorkspace(copy)
  assert.match(pathToFileURL(copy).href, /%20/)

  // What the runner reaches in other packages, resolved from inside the copy.
  const probe = `
    const cluster = await import(${JSON.stringify(pathToFileURL(join(copy, 'packages/cluster/src/index.ts')).href)})
    const auth = await import(${JSON.stringify(pathToFileURL(join(copy, 'services/auth/src/plugins/app/migrations.ts')).href)})
    console.log(JSON.stringify([
      cluster.GATEWAY_TEMPLATE,
      cluster.GATEWAY_STATIC_DIRS.demo,
      auth.MIGRATIONS_DIR,
      ...['auth', ...cluster.DOWNSTREAM_SERVICES].map(cluster.serviceEntry),
    ]))`
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], { timeout: 20_000 })
  const paths = JSON.parse(stdout) as string[]
  assert.equal(paths.length, 6)
  for (const p of paths) {
    assert.ok(p.startsWith(`${copy}${sep}`), `${p} is in the copy`)
    assert.ok(existsSync(p), `${p} exists`)
  }

  const port = await freePort()
  const child = spawn(
    process.execPath,
    [join(copy, 'packages/cluster/src/cli.ts'), '--replicas', '1', '--port', String(port)],
    {
      cwd: copy,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  child.stdout?.on('data', (d) => (out += d))
  child.stderr?.on('data', (d) => (out += d))
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exit
  })
  await waitForLine(child, () => out, 'cluster ready at', 75_000)
  const url = `http://127.0.0.1:${port}`
  assert.equal((await fetch(`${url}/auth/healthz`)).status, 200)
  for (const service of ['orders', 'profile']) {
    const res = await fetch(`${url}/${service}/none/me`)
    assert.equal(res.status, 200, `${service} through the gateway`)
    await res.arrayBuffer()
  }
  assert.equal((await fetch(`${url}/demo/`)).status, 200, 'the demo, copied from the checkout')

  child.kill('SIGTERM')
  const timeout = setTimeout(() => child.kill('SIGKILL'), 15_000)
  assert.equal(await exit, 0, out)
  clearTimeout(timeout)
})
