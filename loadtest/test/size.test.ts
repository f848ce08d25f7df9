import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { after, before, test } from 'node:test'
import { type Cluster, startCluster, UNLIMITED_LOGINS_ENV } from '@authlab/cluster'
import { MODES } from '../lib/scenarios.js'
import { renderHtml, renderMarkdown } from '../src/report.ts'
import { validateResults } from '../src/schema.ts'
import { measureSize, type SizeRun } from '../src/size.ts'
import { synthetic, withSize } from './fixtures.ts'

// One real native cluster (one replica per service) for the measurement; the report from fixtures.
let cluster: Cluster
let size: SizeRun
const PER_MODE = 20
before(async () => {
  cluster = await startCluster({ replicas: 1, port: 0, env: { ...UNLIMITED_LOGINS_ENV } })
  size = await measureSize({
    base: cluster.url,
    bytesLog: cluster.bytesLog,
    requestsPerMode: PER_MODE,
    run: `size-${Date.now().toString(36)}`,
    log: () => {},
  })
})
after(() => cluster?.close())

const lineBytes = (name: string, value: string) => Buffer.byteLength(`${name}: ${value}\r\n`)

test("nginx's byte count logs every mode's requests, and a request is larger than `none`'s by its credential's header line (and the mode's name in its path)", () => {
  assert.deepEqual(
    size.wire.map((w) => w.mode),
    [...MODES],
  )
  const none = size.wire.find((w) => w.mode === 'none')!
  for (const w of size.wire) {
    assert.equal(w.requests, PER_MODE, `${w.mode}: every request logged once`)
    assert.equal(w.failed, 0, `${w.mode}: answered 200`)
    assert.ok(w.responseBytes > 0)
    const credential = size.credentialBytes[w.mode]
    if (credential === undefined) continue
    // The header line carrying it: `authorization: Bearer <token>` or `cookie: sid=<id>`.
    const header =
      credential === size.issued.tokenBytes
        ? lineBytes('authorization', `Bearer ${'x'.repeat(credential)}`)
        : lineBytes('cookie', 'x'.repeat(credential))
    // The path names the mode too: /<service>/<mode>/me.
    const path = w.mode.length - 'none'.length
    assert.equal(
      w.requestBytes - none.requestBytes,
      header + path,
      `${w.mode}: the credential is the whole difference`,
    )
  }
})

test('requests on the main listener are not written to the bytes log', async () => {
  const before = (await readFile(cluster.bytesLog.path, 'utf8')).length
  for (let i = 0; i < 5; i++) await (await fetch(`${cluster.url}/orders/none/me`)).text()
  assert.equal((await readFile(cluster.bytesLog.path, 'utf8')).length, before)
})

test("the session cookie is auth's own, and the issued token signed again with its algorithm keeps its size, growing with every claim set", () => {
  assert.equal(size.sessionCookie.name, 'sid', 'the native cluster sets cookies without Secure')
  assert.ok(size.sessionCookie.setCookieBytes > size.sessionCookie.pairBytes)
  for (const claim of ['sub', 'sid', 'roles', 'jti', 'iat', 'exp', 'iss', 'aud'])
    assert.ok(size.claims.includes(claim))
  const same = size.tokens.find((t) => t.algorithm === size.issued.algorithm && t.claims === 'current')
  assert.equal(same?.tokenBytes, size.issued.tokenBytes)
  for (const algorithm of ['EdDSA', 'ES256', 'RS256']) {
    const sizes = size.tokens.filter((t) => t.algorithm === algorithm).map((t) => t.tokenBytes)
    assert.equal(sizes.length, 4)
    for (let i = 1; i < sizes.length; i++)
      assert.ok(sizes[i]! > sizes[i - 1]!, `${algorithm}: grows with its claims`)
  }
  assert.deepEqual(validateResults(JSON.parse(JSON.stringify({ ...synthetic(), size }))), [])
})

test('the size section renders the token table, the per-mode bytes with their bandwidth at 10,000 req/s, and the chart; a run without it has none', () => {
  const r = withSize(synthetic())
  assert.deepEqual(validateResults(JSON.parse(JSON.stringify(r))), [])
  const md = renderMarkdown(r)
  assert.match(md, /## Size: what each credential weighs, and what travels per request/)
  assert.match(md, /\| EdDSA \| 300 \(6\.4× the cookie\) \| 360 /)
  // jwt: 80 + 300 + 10 = 390 bytes in, 31.2 Mbit/s at 10,000 req/s; 250 out, 20.0 Mbit/s.
  assert.match(md, /\| `jwt` \| 300 \| 390 \| 250 \| 31\.2 \| 20\.0 \| 0 of 100 \|/)
  assert.match(renderHtml(r), /<svg[^>]*>[\s\S]*credential/)
  assert.doesNotMatch(renderMarkdown(synthetic()), /## Size:/)
})
