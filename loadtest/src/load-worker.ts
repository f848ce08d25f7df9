// The load generator process: started once per bench, pinned to its own CPUs, and given one
// autocannon window at a time over IPC (starting autocannon per window costs more than a window).
import autocannon from 'autocannon'
import { decodeFromCompressedBase64 } from 'hdr-histogram-js'

export interface WorkerInput {
  url: string
  pool: { path: string; headers: Record<string, string> }[]
  connections: number
  durationS: number
  overallRate?: number
}

/**
 * What autocannon resolves to with skipAggregateResult: the counts, and its latency histogram (ms,
 * 2xx responses only) encoded. Its aggregate has p97.5 but no p95, so the worker reads the
 * percentiles off the histogram itself.
 */
interface RawResult {
  latencies: string
  totalCompletedRequests: number
  '2xx': number
  non2xx: number
  errors: number
  timeouts: number
  duration: number
  statusCodeStats: Record<string, { count: number }>
}

/** p50, p95 and p99 (ms) of a latency histogram as autocannon encodes it. */
export function latencyPercentiles(encoded: string): { p50Ms: number; p95Ms: number; p99Ms: number } {
  const histogram = decodeFromCompressedBase64(encoded)
  try {
    const at = (percentile: number) => histogram.getValueAtPercentile(percentile)
    return { p50Ms: at(50), p95Ms: at(95), p99Ms: at(99) }
  } finally {
    histogram.destroy()
  }
}

async function window(input: WorkerInput) {
  let next = 0
  const result = (await autocannon({
    url: input.url,
    connections: input.connections,
    duration: input.durationS,
    // autocannon checks its stop flag once per sample: at the default 1 s a 0.5 s window lasts 1 s.
    sampleInt: 100,
    ...(input.overallRate ? { overallRate: input.overallRate } : {}),
    requests: [
      {
        method: 'GET',
        // Walks the credential pool round robin: the token profile decides what each request carries.
        setupRequest: (req) => {
          const r = input.pool[next++ % input.pool.length]!
          return { ...req, path: r.path, headers: { ...req.headers, ...r.headers } }
        },
      },
    ],
    skipAggregateResult: true,
  })) as unknown as RawResult
  return {
    requests: result.totalCompletedRequests,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    durationS: result.duration,
    ...latencyPercentiles(result.latencies),
    statusCounts: Object.fromEntries(Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count])),
  }
}

process.on('message', async (message: { id: number; input: WorkerInput }) => {
  try {
    process.send?.({ id: message.id, result: await window(message.input) })
  } catch (err) {
    process.send?.({ id: message.id, error: (err as Error).message })
  }
})
// Stay alive until the parent disconnects.
process.on('disconnect', () => process.exit(0))
