import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { DOWNSTREAM_SERVICES } from '@authlab/contract'
import { freePort, startNginx } from '@authlab/servers'
import { waitForGateway } from '../src/cluster.ts'
import {
  downstreamBlocks,
  GATEWAY_SERVICES,
  GATEWAY_STATIC_DIRS,
  GATEWAY_TEMPLATE,
  renderGatewayConfig,
  serversVariable,
  templateRegion,
} from '../src/gateway.ts'
import { PEER_SERVICES } from '../src/peers.ts'

// The deployment files at the root of the checkout (docker-compose.yml, infra/k8s), read as text.
const ROOT = join(import.meta.dirname, '../../..')
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8')
const sorted = (list: Iterable<string>) => [...list].sort()

test("the template's static downstream blocks (compose, Kubernetes) are the ones generated from DOWNSTREAM_SERVICES and the peers", () => {
  assert.deepEqual(GATEWAY_SERVICES, [...DOWNSTREAM_SERVICES, ...PEER_SERVICES])
  const template = readFileSync(GATEWAY_TEMPLATE, 'utf8')
  const expected = downstreamBlocks(GATEWAY_SERVICES, (s) => `\${${serversVariable(s)}}`)
  for (const [region, body] of [
    ['downstream upstreams', expected.upstreams],
    ['downstream locations', expected.locations],
  ] as const) {
    assert.equal(
      templateRegion(template, region),
      body,
      `infra/nginx/authlab.conf.template, between "# BEGIN ${region}" and "# END ${region}", should read:\n${body}`,
    )
  }
})

test('compose deploys and routes the downstream services and the peers; Kubernetes the downstream services, the peers routed to no server', () => {
  const downstream = sorted(DOWNSTREAM_SERVICES)
  const routed = sorted(GATEWAY_SERVICES)
  const compose = read('docker-compose.yml')
  // The gateway's upstream variables (besides auth's), the images built, the services' own blocks.
  const composeServers = [...compose.matchAll(/^\s+([A-Z0-9_]+)_SERVERS:/gm)].map((m) => m[1]!)
  assert.deepEqual(sorted(composeServers), sorted(['AUTH', ...routed.map((s) => s.toUpperCase())]))
  const built = [...compose.matchAll(/\bSERVICE: ([a-z0-9-]+)/g)].map((m) => m[1]!)
  assert.deepEqual(sorted(new Set(built)), sorted(['auth', ...routed]))
  for (const s of routed) assert.match(compose, new RegExp(`^  ${s}:$`, 'm'), `compose service ${s}`)

  // Kubernetes runs no peer (the textbook baseline is for the native runner and compose), but the
  // template it shares names their upstreams: each gets a `down` server, so /<peer>/ answers 502.
  const gateway = read('infra/k8s/base/gateway.yaml')
  const k8sServers = [...gateway.matchAll(/- name: ([A-Z0-9_]+)_SERVERS$/gm)].map((m) => m[1]!)
  assert.deepEqual(sorted(k8sServers), sorted(['AUTH', ...routed.map((s) => s.toUpperCase())]))
  for (const peer of PEER_SERVICES)
    assert.match(
      gateway,
      new RegExp(`- name: ${serversVariable(peer)}\n\\s+value: server 127\\.0\\.0\\.1:9 down;\n`),
      `Kubernetes routes ${peer} to no server`,
    )
  const resources = [
    ...read('infra/k8s/base/kustomization.yaml').matchAll(/^ {2}- ([a-z0-9-]+)\.yaml$/gm),
  ].map((m) => m[1]!)
  for (const s of ['auth', ...downstream]) assert.ok(resources.includes(s), `infra/k8s/base has ${s}.yaml`)
  assert.deepEqual(
    sorted(resources.filter((r) => r !== 'gateway' && r !== 'network-policies')),
    sorted(['auth', ...downstream]),
  )
})

test('the native gateway routes every listed service and any extra one; one without replicas answers 502', async (t) => {
  const backend = createServer((req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ url: req.url }))
  })
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve))
  t.after(() => backend.close())
  const address = `127.0.0.1:${(backend.address() as AddressInfo).port}`
  const port = await freePort()
  const config = await renderGatewayConfig({
    listen: `127.0.0.1:${port}`,
    auth: [address],
    // orders, the textbook peer and an extra service get the backend; profile (listed) none.
    upstreams: { orders: [address], textbook: [address], billing: [address] },
  })
  assert.doesNotMatch(config, /_SERVERS\}/, 'no placeholder left')
  for (const s of [...GATEWAY_SERVICES, 'billing'])
    assert.match(config, new RegExp(`^upstream ${s} \\{$`, 'm'))
  const nginx = await startNginx({
    httpConfig: config,
    listen: { host: '127.0.0.1', port },
    staticDirs: GATEWAY_STATIC_DIRS,
  })
  t.after(() => nginx.close())
  const url = `http://127.0.0.1:${port}`
  await waitForGateway(url)
  for (const path of ['/orders/none/me', '/textbook/jwt/me', '/billing/none/me']) {
    const res = await fetch(`${url}${path}`)
    assert.equal(res.status, 200, path)
    assert.deepEqual(await res.json(), { url: path })
  }
  assert.equal((await fetch(`${url}/profile/none/me`)).status, 502)
  // textbook's login has a location of its own (the gateway's login limit), to the same upstream.
  const login = await fetch(`${url}/textbook/login`, { method: 'POST', body: '{}' })
  assert.equal(login.status, 200)
  assert.deepEqual(await login.json(), { url: '/textbook/login' })
  assert.equal((await fetch(`${url}/unknown/none/me`)).status, 404)
  assert.equal((await fetch(`${url}/demo/`)).status, 200, 'the demo, found through @authlab/infra')
})

test('service names that would break the generated nginx config are refused', () => {
  for (const bad of ['Orders', 'a b', 'x;', '', '1st'])
    assert.throws(() => downstreamBlocks([bad], () => ''), /not a service name/)
})

test('waitForGateway rejects, naming the last failure, when nothing answers in time (it used to return)', async () => {
  const port = await freePort() // nobody listens there
  const started = Date.now()
  await assert.rejects(
    waitForGateway(`http://127.0.0.1:${port}`, 600),
    (err: Error) =>
      /gateway not ready within 600 ms/.test(err.message) &&
      err.message.includes(`/auth/healthz`) &&
      /ECONNREFUSED/.test(err.message),
  )
  assert.ok(Date.now() - started < 3_000, 'bounded')
})

test('waitForGateway reports the status of a gateway that answers but not 2xx, and resolves once it does', async (t) => {
  let status = 502
  const server = createServer((_req, res) => {
    res.statusCode = status
    res.end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  await assert.rejects(waitForGateway(url, 300), /HTTP 502/)
  setTimeout(() => (status = 200), 200)
  await waitForGateway(url, 3_000)
})
