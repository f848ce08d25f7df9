import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { freePort, type NginxServer, startNginx } from '@authlab/servers'
import { parse } from 'yaml'

/*
 * The gateway's TLS settings as docker compose gives them (GATEWAY_TLS), served by a real nginx with
 * a certificate made as infra/tls/make-cert.sh makes it, and probed with openssl s_client.
 */

const run = promisify(execFile)
let dir: string
let nginx: NginxServer
let port: number

async function composeTls(): Promise<string> {
  const compose = parse(await readFile(join(import.meta.dirname, '../../docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as { services: { nginx: { environment: Record<string, string> } } }
  return compose.services.nginx.environment.GATEWAY_TLS!
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'authlab-tls-'))
  await run('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2'],
    ...['-subj', '/CN=localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
  ])
  port = await freePort()
  const tls = (await composeTls()).replaceAll('/etc/nginx/tls/', `${dir}/`)
  nginx = await startNginx({
    httpConfig: `server { listen 127.0.0.1:${port} ssl; ${tls} location / { return 200 "ok\\n"; } }`,
    listen: { host: '127.0.0.1', port },
  })
})
after(async () => {
  await nginx?.close()
  await rm(dir, { recursive: true, force: true })
})

/** One handshake; resolves with openssl's report, whether or not the handshake succeeded. */
async function handshake(...args: string[]): Promise<{ ok: boolean; out: string }> {
  const result = await new Promise<{ ok: boolean; out: string }>((resolve) => {
    const child = execFile(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, ...args],
      { timeout: 10_000 },
      (err, stdout, stderr) => resolve({ ok: !err, out: stdout + stderr }),
    )
    // s_client reads what to send from stdin: nothing, so it closes after the handshake.
    child.stdin?.end()
  })
  const negotiated = /Cipher is (\S+)/.exec(result.out)?.[1]
  return { ok: result.ok && negotiated !== undefined && negotiated !== '(NONE)', out: result.out }
}

test('the gateway TLS of docker compose offers TLS 1.2 with AEAD ciphers only, and TLS 1.3', async () => {
  for (const cipher of ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305']) {
    assert.equal((await handshake('-tls1_2', '-cipher', cipher)).ok, true, `${cipher} is offered`)
  }
  for (const cipher of ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-ECDSA-AES128-SHA256']) {
    assert.equal((await handshake('-tls1_2', '-cipher', cipher)).ok, false, `${cipher} (CBC) is refused`)
  }
  assert.equal((await handshake('-tls1_3')).ok, true, 'TLS 1.3')
  assert.equal((await handshake('-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0')).ok, false, 'TLS 1.1 is refused')
})

test('the gateway TLS of docker compose issues no session tickets (TLS 1.2), so no ticket key outlives a restart unrotated', async () => {
  const { ok, out } = await handshake('-tls1_2')
  assert.equal(ok, true)
  assert.doesNotMatch(out, /TLS session ticket lifetime hint/)
})
