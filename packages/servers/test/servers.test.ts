import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { test } from 'node:test'
import { redisPing, startPostgres, startRedis } from '../src/index.ts'

function redisCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(`${command}\r\n`))
    socket.once('data', (data) => {
      socket.destroy()
      resolve(data.toString())
    })
    socket.once('error', reject)
  })
}

test('a real redis-server starts on a free loopback port and keeps data across a graceful restart (AOF)', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.close())
  assert.match(redis.url, /^redis:\/\/127\.0\.0\.1:\d+$/)
  assert.equal(await redisCommand(redis.port, 'SET k v'), '+OK\r\n')
  await redis.restart()
  assert.equal(await redisCommand(redis.port, 'GET k'), '$1\r\nv\r\n')
})

test('redis restarted with wipeData comes back empty on the same port', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.close())
  await redisCommand(redis.port, 'SET k v')
  await redis.restart({ wipeData: true })
  assert.equal(await redisCommand(redis.port, 'GET k'), '$-1\r\n')
})

test('a stopped redis refuses connections until started again', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.close())
  await redis.stop()
  assert.equal(await redisPing(redis.host, redis.port), false)
  await redis.start()
  assert.equal(await redisPing(redis.host, redis.port), true)
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
