import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { test } from 'node:test'
import { Redis } from 'ioredis'
import {
  freePort,
  processTreeCpuTimeMs,
  redisPing,
  startNginx,
  startPostgres,
  startRedis,
} from '../src/index.ts'

test('a real redis-server starts on a free loopback port and keeps data across a graceful restart (AOF)', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.close())
  assert.match(redis.url, /^redis:\/\/default:[0-9a-f]+@127\.0\.0\.1:\d+$/)
  const client = new Redis(redis.url, { maxRetriesPerRequest: 5 })
  t.after(() => client.disconnect())
  assert.equal(await client.set('k', 'v'), 'OK')
  await redis.restart()
  assert.equal(await client.get('k'), 'v')
})

test('redis restarted with wipeData comes back empty on the same port', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.close())
  const client = new Redis(redis.url, { maxRetriesPerRequest: 5 })
  t.after(() => client.disconnect())
  await client.set('k', 'v')
  await redis.restart({ wipeData: true })
  assert.equal(await client.get('k'), null)
})

test('redis loads the ACL users of infra/redis/users.acl: nothing works without a password', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.close())
  const anonymous = new Redis({
    host: redis.host,
    port: redis.port,
    enableReadyCheck: false,
    maxRetriesPerRequest: 1,
  })
  t.after(() => anonymous.disconnect())
  await assert.rejects(anonymous.get('k'), /NOAUTH/)
  assert.equal(await redisPing(redis.host, redis.port), false)
  const downstream = new Redis(redis.urlFor('downstream'), { maxRetriesPerRequest: 1 })
  t.after(() => downstream.disconnect())
  await assert.rejects(downstream.set('authlab:sess:x', 'v'), /NOPERM/)
})

test('a stopped redis refuses connections until started again', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.close())
  await redis.stop()
  const password = new URL(redis.url).password
  assert.equal(await redisPing(redis.host, redis.port, password), false)
  await redis.start()
  assert.equal(await redisPing(redis.host, redis.port, password), true)
})

test('a frozen redis (SIGSTOP) keeps its connections but answers nothing until thawed, and a frozen one closes without waiting for SIGKILL', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.close())
  const client = new Redis(redis.url, { maxRetriesPerRequest: 0, commandTimeout: 300 })
  t.after(() => client.disconnect())
  assert.equal(await client.ping(), 'PONG')
  redis.freeze()
  await assert.rejects(client.ping(), /Command timed out/)
  redis.thaw()
  assert.equal(await client.ping(), 'PONG')
  redis.freeze()
  const started = performance.now()
  await redis.stop()
  // A bound, not a timing: a frozen process ignores SIGTERM, and without a SIGCONT first the stop
  // would wait for its SIGKILL after 10 s.
  assert.ok(performance.now() - started < 5000, 'stopped promptly')
  assert.equal(redis.running, false)
})

test("nginx serves a static directory its workers could not read where it lies (a checkout in a private temporary directory: nginx's workers run as nobody under root)", async (t) => {
  const source = await mkdtemp(join(tmpdir(), 'authlab-static-'))
  t.after(() => rm(source, { recursive: true, force: true }))
  await writeFile(join(source, 'index.html'), '<p>demo</p>')
  await chmod(source, 0o700)
  const port = await freePort()
  const nginx = await startNginx({
    httpConfig: `server { listen 127.0.0.1:${port}; location /demo/ { alias \${STATIC_DIR}/demo/; } }`,
    listen: { host: '127.0.0.1', port },
    staticDirs: { demo: source },
  })
  t.after(() => nginx.close())
  const res = await fetch(`http://127.0.0.1:${port}/demo/index.html`)
  assert.equal(res.status, 200)
  assert.equal(await res.text(), '<p>demo</p>')
})

test('a real postgres starts with a password-protected database and accepts TCP connections', async (t) => {
  const pg = await startPostgres()
  t.after(() => pg.close())
  assert.match(pg.url, /^postgres:\/\/authlab:authlab@127\.0\.0\.1:\d+\/authlab$/)
  assert.ok(pg.running)
  const reachable = await new Promise<boolean>((resolve) => {
    const s = connect({ host: pg.host, port: pg.port }, () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
  assert.equal(reachable, true)
  await pg.stop()
  assert.equal(pg.running, false)
})

test("a process tree's CPU time keeps a child's CPU after the child exits (a window around its exit never reads negative)", async (t) => {
  // The parent starts a child that burns CPU, then, when told, ends it and waits for it: the
  // shape of a Postgres backend that exits when its pool connection idles out.
  const parent = spawn(
    process.execPath,
    [
      '-e',
      `const { spawn } = require('node:child_process')
       const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 300; while (Date.now() < end); console.log("burnt"); setInterval(() => {}, 1000)'], { stdio: ['ignore', 'pipe', 'inherit'] })
       child.stdout.once('data', () => console.log('burnt'))
       process.stdin.once('data', () => { child.once('exit', () => console.log('reaped')); child.kill() })
       setInterval(() => {}, 1000)`,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  )
  t.after(() => parent.kill('SIGKILL'))
  const lines = createInterface({ input: parent.stdout! })
  const next = (want: string) =>
    new Promise<void>((resolve) => lines.on('line', (l) => l === want && resolve()))
  await next('burnt')
  const withChild = await processTreeCpuTimeMs(parent.pid!)
  const reaped = next('reaped')
  parent.stdin!.write('exit\n')
  await reaped
  const afterExit = await processTreeCpuTimeMs(parent.pid!)
  // The child burnt ~300 ms; a reaped child's CPU is counted in clock ticks (10 ms), so allow two.
  assert.ok(withChild >= 250, `the live tree counts the child's CPU (${withChild} ms)`)
  assert.ok(
    afterExit >= withChild - 20,
    `tree CPU went from ${withChild} ms to ${afterExit} ms when the child exited`,
  )
})
