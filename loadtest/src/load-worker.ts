// The load generator process: started once per bench, pinned to its own CPUs, and given one
// autocannon window at a time over IPC (starting autocannon per window costs more than a window).
import autocannon from 'autocannon'

export interface WorkerInput {
  url: string
  pool: { path: string; headers: Record<string, string> }[]
  connections: number
  durationS: number
  overallRate?: number
}

async function window(input: WorkerInput) {
  let next = 0
  const result = await autocannon({
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
  })
  const stats = result.statusCodeStats as unknown as Record<string, { count: number }>
  return {
    requests: result.requests.total,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    durationS: result.duration,
    p50Ms: result.latency.p50,
    p95Ms: (result.latency as unknown as Record<string, number>).p97_5 ?? result.latency.p99,
    p99Ms: result.latency.p99,
    statusCounts: Object.fromEntries(Object.entries(stats ?? {}).map(([k, v]) => [k, v.count])),
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
