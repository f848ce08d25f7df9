import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type TestContext, test } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import { errorHandler, unroutedRequests } from '../src/index.ts'

async function build(t: TestContext): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(unroutedRequests)
  app.setErrorHandler(errorHandler())
  app.get('/a', async () => 'a')
  app.post('/a', async () => 'a')
  app.post('/b/:id', async () => 'b')
  app.route({ method: ['PUT', 'DELETE'], url: '/c/*', handler: async () => 'c' })
  app.register(
    async (child) => {
      // A prefixed plugin's `/` is two routes, /child and /child/ (prefixTrailingSlash 'both').
      child.get('/', async () => 'child')
      child.get('/d', async () => 'd')
    },
    { prefix: '/child' },
  )
  t.after(() => app.close())
  await app.ready()
  return app
}

/** A request path for a route's URL pattern: each parameter and wildcard filled in. */
const concrete = (url: string) => url.replaceAll(/:[^/]+/g, 'x').replaceAll('*', 'x')

test('declaredRoutes lists every route with its methods, HEAD beside GET', async (t) => {
  const app = await build(t)
  assert.deepEqual(Object.fromEntries(app.declaredRoutes()), {
    '/a': ['GET', 'HEAD', 'POST'],
    '/b/:id': ['POST'],
    '/c/*': ['DELETE', 'PUT'],
    '/child': ['GET', 'HEAD'],
    '/child/': ['GET', 'HEAD'],
    '/child/d': ['GET', 'HEAD'],
  })
})

test('every route answers each undeclared method 405 with Allow naming exactly its methods', async (t) => {
  const app = await build(t)
  // PROPFIND: a method Node parses but Fastify routes none of; QUERY: routable, with a body.
  const methods = [...app.supportedMethods, 'PROPFIND'] as const
  let checked = 0
  for (const [url, declared] of app.declaredRoutes()) {
    for (const method of methods.filter((m) => !declared.includes(m))) {
      const res = await app.inject({ method: method as 'GET', url: `${concrete(url)}?q=1` })
      assert.equal(res.statusCode, 405, `${method} ${url}`)
      assert.equal(res.headers.allow, declared.join(', '), `${method} ${url}`)
      if (method !== 'HEAD') assert.equal(res.json().code, 'AUTHLAB_METHOD_NOT_ALLOWED', `${method} ${url}`)
      checked++
    }
  }
  assert.ok(checked >= 25, `${checked} cases`)
})

test('the 405 comes before body parsing: QUERY without Content-Type, PUT with an unknown one', async (t) => {
  const app = await build(t)
  const query = await app.inject({ method: 'QUERY', url: '/a' })
  assert.equal(query.statusCode, 405)
  assert.equal(query.headers.allow, 'GET, HEAD, POST')
  const put = await app.inject({
    method: 'PUT',
    url: '/a',
    headers: { 'content-type': 'application/x-nobody-parses-this' },
    payload: 'x',
  })
  assert.equal(put.statusCode, 405)
  const bad = await app.inject({
    method: 'PATCH',
    url: '/b/7',
    headers: { 'content-type': 'application/json' },
    payload: '{not json',
  })
  assert.equal(bad.statusCode, 405)
  assert.equal(bad.headers.allow, 'POST')
})

test('an unknown path is 404 AUTHLAB_NOT_FOUND whatever the method, without Allow', async (t) => {
  const app = await build(t)
  for (const method of ['GET', 'POST', 'QUERY', 'PROPFIND'] as const) {
    const res = await app.inject({ method: method as 'GET', url: '/nowhere?x=1' })
    assert.equal(res.statusCode, 404, method)
    assert.equal(res.headers.allow, undefined, method)
    assert.equal(res.json().code, 'AUTHLAB_NOT_FOUND', method)
    assert.equal(res.json().message, `${method} /nowhere is not a route`)
  }
  assert.equal((await app.inject('/child/nowhere')).statusCode, 404)
  assert.equal((await app.inject('/c')).statusCode, 404, 'the wildcard needs its segment')
  // Declared methods are unaffected.
  assert.equal((await app.inject({ method: 'POST', url: '/b/7' })).statusCode, 200)
  assert.equal((await app.inject({ method: 'HEAD', url: '/a' })).statusCode, 200)
})

test('over HTTP too: QUERY /a is 405 with Allow (it was a 400); a method Node cannot parse is its 400', async (t) => {
  const app = await build(t)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  const send = (method: string) =>
    new Promise<{ status: number; allow: string | undefined }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method, path: '/a' }, (res) => {
        res.resume()
        res.on('end', () => resolve({ status: res.statusCode ?? 0, allow: res.headers.allow }))
      })
      req.on('error', reject)
      req.end()
    })
  assert.deepEqual(await send('QUERY'), { status: 405, allow: 'GET, HEAD, POST' })
  assert.deepEqual(await send('PROPFIND'), { status: 405, allow: 'GET, HEAD, POST' })
  assert.equal((await send('BREW')).status, 400)
})
