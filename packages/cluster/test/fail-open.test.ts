import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startCluster } from '../src/index.ts'

// The one configured exception to failing closed, on its own small cluster.
test('with DENYLIST_FAIL_OPEN=true, jwt-denylist keeps accepting valid tokens while Redis is down but grants no role on them (503 on /admin); session still fails closed', async (t) => {
  const cluster = await startCluster({
    replicas: 2,
    port: 0,
    services: ['orders'],
    env: { DENYLIST_FAIL_OPEN: 'true' },
  })
  t.after(() => cluster.close())
  const body = JSON.stringify({ email: 'fail-open@example.test', password: 'correct horse battery staple' })
  const headers = { 'content-type': 'application/json' }
  await fetch(`${cluster.url}/auth/register`, { method: 'POST', headers, body })
  await cluster.admin('roles', 'fail-open@example.test', 'admin')
  const login = (await (
    await fetch(`${cluster.url}/auth/login`, { method: 'POST', headers, body })
  ).json()) as {
    accessToken: string
    sessionId: string
  }
  await cluster.redis.stop()
  const statuses = async (mode: string, h: Record<string, string>, route = 'me') => {
    const seen: number[] = []
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${cluster.url}/orders/${mode}/${route}`, { headers: h })
      await res.arrayBuffer()
      seen.push(res.status)
    }
    return new Set(seen)
  }
  assert.deepEqual(
    await statuses('jwt-denylist', { authorization: `Bearer ${login.accessToken}` }),
    new Set([200]),
  )
  assert.deepEqual(
    await statuses('jwt-denylist', { authorization: `Bearer ${login.accessToken}` }, 'admin'),
    new Set([503]),
    'the admin role may have been withdrawn: unchecked, it is not granted',
  )
  assert.deepEqual(await statuses('session', { cookie: `sid=${login.sessionId}` }), new Set([503]))
  assert.deepEqual(
    await statuses('jwt-denylist', { authorization: 'Bearer forged.token.here' }),
    new Set([401]),
    'the signature is still checked',
  )
})
