import assert from 'node:assert/strict'
import { test } from 'node:test'
import { seriesValue } from '@authlab/servers'
import Fastify from 'fastify'
import { metrics } from '../src/index.ts'

test('the metrics plugin refuses incomplete options before anything starts', async () => {
  for (const opts of [
    { service: '', replica: 'r', path: '/m' },
    { service: 's', replica: 'r', path: 'metrics' },
  ]) {
    const app = Fastify()
    await assert.rejects(
      async () => {
        await app.register(metrics, opts)
      },
      { code: 'AUTHLAB_CONFIG_INVALID' },
    )
    await app.close()
  }
})

test('two apps in one process keep separate registries: each exposes only its own traffic', async (t) => {
  const build = async (replica: string) => {
    const app = Fastify()
    t.after(() => app.close())
    // Awaited: routes added before the plugin has loaded would not be measured.
    await app.register(metrics, { service: 'svc', replica, path: '/svc/metrics' })
    app.get('/svc/hello', async () => 'hi')
    return app
  }
  const [a, b] = [await build('a'), await build('b')]
  await a.inject('/svc/hello')
  await a.inject('/svc/hello')
  const bodyA = (await a.inject('/svc/metrics')).body
  const bodyB = (await b.inject('/svc/metrics')).body
  const hello = { route: '/svc/hello', status_code: '200', service: 'svc' }
  assert.equal(seriesValue(bodyA, 'http_request_duration_seconds_count', { ...hello, replica: 'a' }), 2)
  assert.equal(seriesValue(bodyB, 'http_request_duration_seconds_count', hello), undefined)
  assert.ok(
    seriesValue(bodyB, 'process_cpu_user_seconds_total', { service: 'svc', replica: 'b' }) !== undefined,
  )
  assert.doesNotMatch(bodyA, /http_request_summary_seconds/, 'no empty summary family')
})
