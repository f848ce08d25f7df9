// Runs one autocannon window in its own process, so the generator can be pinned to a CPU apart
// from the servers (taskset). Input: a JSON file (argv[2]); output: one JSON line on stdout.
import { readFileSync } from 'node:fs'
import autocannon from 'autocannon'

interface Input {
  url: string
  pool: { path: string; headers: Record<string, string> }[]
  connections: number
  durationS: number
  overallRate?: number
}

const input = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as Input
let next = 0
const result = await autocannon({
  url: input.url,
  connections: input.connections,
  duration: input.durationS,
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
process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.total,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    durationS: result.duration,
    p50Ms: result.latency.p50,
    p95Ms: (result.latency as unknown as Record<string, number>).p97_5 ?? result.latency.p99,
    p99Ms: result.latency.p99,
    statusCounts: Object.fromEntries(Object.entries(stats ?? {}).map(([k, v]) => [k, v.count])),
  })}\n`,
)
