import assert from 'node:assert/strict'
import { test } from 'node:test'
import createError from '@fastify/error'
import Fastify from 'fastify'
import { errorHandler, serverOptions } from '../src/index.ts'

const Unauthorized = createError('AUTHLAB_TEST_UNAUTHORIZED', 'invalid token', 401)
const Unavailable = createError('AUTHLAB_TEST_UNAVAILABLE', 'session store unavailable', 503)

function build(t: { after: (fn: () => Promise<unknown>) => void }, lines: Record<string, unknown>[]) {
  const stream = { write: (line: string) => lines.push(JSON.parse(line)) }
  const app = Fastify({
    ...serverOptions({
      LOG_LEVEL: 'info',
      TRUST_PROXY: '127.0.0.1',
      BODY_LIMIT_BYTES: 1024,
      service: 'test',
    }),
    logger: { level: 'info', stream },
  })
  app.setErrorHandler(
    errorHandler({ map: (e) => ((e as Error).message === 'ECONNREFUSED' ? new Unavailable() : e) }),
  )
  app.get('/401', async () => {
    throw new Unauthorized({ cause: new Error('The token signature is invalid.') })
  })
  app.get('/503', async () => {
    throw new Error('ECONNREFUSED')
  })
  app.get('/500', async () => {
    throw new Error('secret internal detail')
  })
  app.post('/body', { schema: { body: { type: 'object', required: ['a'] } } }, async () => ({}))
  t.after(() => app.close())
  return app
}

test('an error body names the status text, our code, a safe message and the request id the gateway sent', async (t) => {
  const lines: Record<string, unknown>[] = []
  const app = build(t, lines)
  const id = '0123456789abcdef0123456789abcdef'
  const res = await app.inject({ url: '/401', headers: { 'x-request-id': id } })
  assert.equal(res.statusCode, 401)
  assert.deepEqual(res.json(), {
    statusCode: 401,
    code: 'AUTHLAB_TEST_UNAUTHORIZED',
    error: 'Unauthorized',
    message: 'invalid token',
    requestId: id,
  })
  const logged = lines.find((l) => l.msg === 'invalid token')
  assert.equal(logged?.level, 30, 'a client error is logged at info')
  assert.equal(logged?.requestId, id, 'under the same request id')
  assert.equal(logged?.cause, 'The token signature is invalid.', 'with the cause the client does not see')
})

test('a malformed or missing X-Request-Id gets a fresh UUID, never the raw header in the logs', async (t) => {
  const app = build(t, [])
  for (const header of ['a\nfake log line', 'x'.repeat(500), undefined]) {
    const res = await app.inject({
      url: '/401',
      headers: header === undefined ? {} : { 'x-request-id': header },
    })
    assert.match(res.json().requestId, /^[0-9a-f-]{36}$/)
  }
})

test('a store outage maps to 503 with Retry-After, a crash to a generic 500 logged in full, a bad body to 400', async (t) => {
  const lines: Record<string, unknown>[] = []
  const app = build(t, lines)
  const unavailable = await app.inject({ url: '/503' })
  assert.equal(unavailable.statusCode, 503)
  assert.equal(unavailable.headers['retry-after'], '1')
  assert.equal(unavailable.json().error, 'Service Unavailable')
  assert.equal(unavailable.json().code, 'AUTHLAB_TEST_UNAVAILABLE')
  const crash = await app.inject({ url: '/500' })
  assert.equal(crash.statusCode, 500)
  assert.equal(crash.json().message, 'Internal Server Error')
  assert.equal(crash.json().code, 'AUTHLAB_INTERNAL')
  assert.doesNotMatch(crash.body, /secret internal detail/)
  assert.ok(lines.some((l) => l.level === 50 && JSON.stringify(l.err).includes('secret internal detail')))
  const invalid = await app.inject({ method: 'POST', url: '/body', payload: {} })
  assert.equal(invalid.statusCode, 400)
  assert.equal(invalid.json().error, 'Bad Request')
  assert.equal(invalid.json().code, 'FST_ERR_VALIDATION')
})
