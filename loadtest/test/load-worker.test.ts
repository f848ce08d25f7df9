import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { build, encodeIntoCompressedBase64 } from 'hdr-histogram-js'
import { LoadGenerator } from '../src/load.ts'
import { latencyPercentiles } from '../src/load-worker.ts'

test('the latency percentiles are read off the histogram: p95 is the 95th percentile, not autocannon’s p97.5', () => {
  const histogram = build({ bitBucketSize: 64, useWebAssembly: false })
  for (let ms = 1; ms <= 100; ms++) histogram.recordValue(ms)
  assert.deepEqual(latencyPercentiles(encodeIntoCompressedBase64(histogram)), {
    p50Ms: 50,
    p95Ms: 95,
    p99Ms: 99,
  })
})

test('a load window reports a p95 below a tail that only p97.5 and p99 reach', async (t) => {
  // Every 25th response is slow: 4 % of them, above the 95th percentile and below the 97.5th.
  let count = 0
  const server = createServer((_req, res) => {
    if (++count % 25 === 0) setTimeout(() => res.end('slow'), 200)
    else res.end('ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const generator = LoadGenerator.start()
  t.after(() => generator.close())
  const { port } = server.address() as AddressInfo
  const result = await generator.saturate(`http://127.0.0.1:${port}`, [{ path: '/', headers: {} }], {
    connections: 4,
    durationS: 1,
  })
  assert.ok(result.ok >= 100, `${result.ok} responses`)
  assert.equal(result.ok, result.requests)
  assert.ok(result.p95Ms < 100, `p95 ${result.p95Ms} ms is a fast response`)
  assert.ok(result.p99Ms >= 150, `p99 ${result.p99Ms} ms is a slow one`)
  assert.ok(result.p50Ms <= result.p95Ms)
})
