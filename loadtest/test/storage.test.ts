import assert from 'node:assert/strict'
import { test } from 'node:test'
import { renderMarkdown } from '../src/report.ts'
import { validateResults } from '../src/schema.ts'
import { measureStorage } from '../src/storage.ts'
import { synthetic } from './fixtures.ts'

// Against a real redis-server: the figures exist and have the right shape. Never their size.
test('the storage measurement reads Redis memory per session and per revocation, and the revocation set as each mode meets it, at each size', async () => {
  const storage = await measureStorage([300, 600], () => {})
  assert.deepEqual(
    storage.sessions.map((s) => s.count),
    [300, 600],
  )
  for (const s of storage.sessions) assert.ok(s.bytesPerEntry > 0 && s.memoryUsageOfOneKey > 0)
  for (const r of storage.revocations) assert.ok(r.bytesPerEntry > 0 && r.liveSetBytes > 0)
  for (const r of storage.revocationSet) {
    assert.ok(r.mgetRedisUs > 0, 'the denylist MGETs reached Redis')
    assert.ok(r.snapshotBytes > 0 && r.syncMs >= 0 && r.pushedNs > 0)
    assert.ok(Number.isFinite(r.heapPerEntry))
  }
  const results = { ...synthetic(), storage }
  assert.deepEqual(validateResults(JSON.parse(JSON.stringify(results))), [])
  assert.match(renderMarkdown(results), /## Storage: what sessions and revocations cost as they grow/)
  assert.doesNotMatch(renderMarkdown(synthetic()), /## Storage/, 'absent from a run that did not measure it')
})
