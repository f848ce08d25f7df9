import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import { startRedis } from '@authlab/servers'
import { Redis } from 'ioredis'
import { DelayRelay, netemUnavailable } from '../src/network.ts'

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (check()) return true
    await new Promise((r) => setTimeout(r, 50))
  }
  return check()
}

test('the delay relay carries real Redis traffic and adds at least twice the one-way delay to each round trip, changed at run time', async (t) => {
  const reason = netemUnavailable()
  assert.ok(
    reason === undefined || reason.length > 0,
    'the kernel probe answers, with a reason when it cannot',
  )
  const redis = await startRedis()
  t.after(() => redis.close())
  const target = new URL(redis.url)
  const relay = await DelayRelay.start({ host: target.hostname, port: Number(target.port) })
  t.after(() => relay.close())
  const via = new URL(redis.url)
  via.port = String(relay.address.port)
  const client = new Redis(via.href, { maxRetriesPerRequest: 1 })
  t.after(() => client.disconnect())

  assert.equal(await client.ping(), 'PONG')
  await client.set('authlab:relay-test', 'x'.repeat(100_000))
  assert.equal(
    (await client.get('authlab:relay-test'))?.length,
    100_000,
    'large replies arrive whole and in order',
  )

  // A lower bound, not a timing claim: the relay holds each direction at least this long.
  await relay.setDelay(25)
  const started = performance.now()
  assert.equal(await client.ping(), 'PONG')
  assert.ok(
    performance.now() - started >= 50,
    'a round trip through a 25 ms one-way delay takes at least 50 ms',
  )

  await relay.setDelay(0)
  const pipelined = await Promise.all(Array.from({ length: 200 }, (_, i) => client.echo(String(i))))
  assert.deepEqual(
    pipelined,
    Array.from({ length: 200 }, (_, i) => String(i)),
    'replies keep their order',
  )
})

test('a bench killed with SIGKILL leaves no delay relay behind', async () => {
  const script = `
    import { DelayRelay } from ${JSON.stringify(new URL('../src/network.ts', import.meta.url).href)}
    const relay = await DelayRelay.start({ host: '127.0.0.1', port: 9 })
    console.log(relay.pid)
    setInterval(() => {}, 1000)
  `
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const pid = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())))
    child.once('exit', (code) => reject(new Error(`runner exited ${code}`)))
  })
  assert.ok(pid > 0 && alive(pid), 'the relay runs')
  child.kill('SIGKILL')
  assert.ok(await until(() => !alive(pid), 5000), 'the relay exits once its runner is gone (stdin closed)')
})
