import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { freePort, type NginxServer, startNginx } from '@authlab/servers'
import { type Cluster, realIpDirectives, renderGatewayConfig, startCluster } from '../src/index.ts'

/*
 * The deployment the docs recommend: TLS ends at a proxy in front of the gateway (an Ingress, a
 * load balancer). Here a second nginx plays it, and clients reach it from their own loopback
 * addresses (127.0.0.2, 127.0.0.3): every limit must still count clients, not the front proxy.
 */

const PASSWORD = 'correct horse battery staple'
const A = '127.0.0.2'
const B = '127.0.0.3'
const PER_ACCOUNT_IP = 3
const PER_IP = 6

let cluster: Cluster
let ingress: NginxServer
let ingressPort: number
before(async () => {
  cluster = await startCluster({
    replicas: 1,
    services: ['orders'],
    port: 0,
    env: {
      GATEWAY_TRUSTED_PROXIES: '127.0.0.1',
      LOGIN_RATE_LIMIT_PER_ACCOUNT_IP: String(PER_ACCOUNT_IP),
      LOGIN_RATE_LIMIT_PER_IP: String(PER_IP),
      GATEWAY_LOGIN_RATE: '1000r/s',
      GATEWAY_LOGIN_BURST: '1000',
    },
  })
  ingressPort = await freePort()
  // A front proxy as they are configured: it appends the address it saw to X-Forwarded-For.
  ingress = await startNginx({
    httpConfig: `server {
      listen 127.0.0.1:${ingressPort};
      location / {
        proxy_pass ${cluster.url};
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      }
    }`,
    listen: { host: '127.0.0.1', port: ingressPort },
  })
})
after(async () => {
  await ingress?.close()
  await cluster?.close()
})

/** A POST through the front proxy from the client address `from`; resolves with the status. */
function post(
  from: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: ingressPort,
        localAddress: from,
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      },
    )
    req.on('error', reject)
    req.end(JSON.stringify(body))
  })
}

let n = 0
const email = () => `front-${++n}-${Date.now()}@example.test`
const login = (from: string, account: string, password: string, headers?: Record<string, string>) =>
  post(from, '/auth/login', { email: account, password }, headers)
async function attempts(from: string, count: number, account: string): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < count; i++) out.push(await login(from, account, 'wrong password!'))
  return out
}

test('behind a trusted front proxy, one client spending its login budgets limits neither another client nor the owner of the account it attacks', async () => {
  const victim = email()
  assert.equal(await post(B, '/auth/register', { email: victim, password: PASSWORD }), 201)
  assert.deepEqual(
    await attempts(A, PER_ACCOUNT_IP + 1, victim),
    [401, 401, 401, 429],
    'A is stopped on the account',
  )
  assert.equal(await login(B, victim, PASSWORD), 200, 'the owner, from another address, logs in')
  // A spends its per-address budget on other accounts; B still has its own.
  const spent = await attempts(A, PER_IP - PER_ACCOUNT_IP - 1, email())
  assert.deepEqual([...spent, await login(A, email(), 'wrong password!')], [401, 401, 429])
  assert.equal(await login(B, email(), 'wrong password!'), 401, "B's address has its own budget")
})

test('a client that writes its own X-Forwarded-For through the front proxy is still counted at its own address', async () => {
  const account = email()
  assert.deepEqual(await attempts(A, 1, account), [429], "A's address has spent its budget (previous test)")
  assert.equal(
    await login(A, account, 'wrong password!', { 'x-forwarded-for': '198.51.100.7' }),
    429,
    'a made-up address does not buy a fresh budget',
  )
  assert.equal(
    await login(B, account, 'wrong password!', { 'x-forwarded-for': A }),
    401,
    "naming A's address does not spend A's budget or B's",
  )
})

test('without GATEWAY_TRUSTED_PROXIES every client behind a front proxy shares its address: one client spends everyone’s budget', async (t) => {
  const untrusted = await renderGatewayConfig({
    listen: new URL(cluster.url).host,
    auth: [`127.0.0.1:${cluster.auth.port}`],
    upstreams: { orders: cluster.replicas.get('orders')!.map((r) => `127.0.0.1:${r.port}`) },
    loginRate: '1000r/s',
    loginBurst: 1000,
  })
  // A marker location, to know when the reloaded workers answer (a bounded wait, not a sleep).
  const marked = untrusted.replace(
    'location = /gateway/healthz',
    'location = /gateway/untrusted { return 200; }\n  location = /gateway/healthz',
  )
  await cluster.nginx.reload(marked)
  t.after(async () => cluster.setActiveReplicas(1))
  const deadline = Date.now() + 5000
  while ((await fetch(`${cluster.url}/gateway/untrusted`)).status !== 200) {
    assert.ok(Date.now() < deadline, 'the reloaded gateway answers within 5 s')
    await new Promise((r) => setTimeout(r, 50))
  }
  const from = (address: string) => login(address, email(), 'wrong password!')
  const first: number[] = []
  for (let i = 0; i < PER_IP; i++) first.push(await from(A))
  assert.equal(first.filter((s) => s === 401).length, PER_IP, `A alone, through the front proxy: ${first}`)
  assert.equal(await from(B), 429, 'B is refused: the gateway saw only the front proxy')
})

test('the native runner and the containers’ entry-point script write the same realip directives', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'authlab-realip-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const script = fileURLToPath(import.meta.resolve('@authlab/infra/nginx/trusted-proxies.sh'))
  for (const proxies of ['', '10.0.0.0/8', '10.0.0.0/8, 192.0.2.7,2001:db8::/32']) {
    await promisify(execFile)('sh', [script], {
      env: {
        PATH: process.env.PATH,
        GATEWAY_TRUSTED_PROXIES: proxies.replaceAll(' ', ''),
        NGINX_ENVSUBST_OUTPUT_DIR: dir,
      },
    })
    const written = await readFile(join(dir, 'authlab-real-ip.conf'), 'utf8')
    assert.equal(written, realIpDirectives(proxies), proxies || 'none trusted')
  }
  await assert.rejects(
    promisify(execFile)('sh', [script], {
      env: {
        PATH: process.env.PATH,
        GATEWAY_TRUSTED_PROXIES: '10.0.0.0/8;evil',
        NGINX_ENVSUBST_OUTPUT_DIR: dir,
      },
    }),
  )
  assert.throws(() => realIpDirectives('10.0.0.0/8;evil'), /not an address or a CIDR range/)
})
