import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { LoadResult } from './load.ts'

const run = promisify(execFile)
const SCRIPT = new URL('../throughput.js', import.meta.url).pathname

/**
 * One throughput window with the user's own k6 (`--generator k6`), turned into the same result
 * shape as the native generator. authlab never installs k6 (AGPL); this runs only when it is on PATH.
 */
export async function k6Saturate(
  base: string,
  mode: string,
  profile: string,
  durationS: number,
  vus: number,
): Promise<LoadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'authlab-k6-'))
  try {
    const summary = join(dir, 'summary.json')
    await run(
      'k6',
      [
        'run',
        '--quiet',
        `--summary-export=${summary}`,
        '--summary-trend-stats=p(50),p(95),p(99)',
        '-e',
        `BASE_URL=${base}`,
        '-e',
        `MODES=${mode}`,
        '-e',
        `TOKEN_PROFILE=${profile}`,
        '-e',
        `DURATION=${durationS}s`,
        '-e',
        `VUS=${vus}`,
        SCRIPT,
      ],
      { maxBuffer: 1 << 24 },
    )
    const metrics = JSON.parse(await readFile(summary, 'utf8')).metrics as Record<
      string,
      Record<string, number>
    >
    const requests = metrics.http_reqs?.count ?? 0
    const failed = Math.round((metrics.http_req_failed?.value ?? 0) * requests)
    return {
      requests,
      ok: requests - failed,
      non2xx: failed,
      errors: 0,
      rps: (requests - failed) / durationS,
      p50Ms: metrics.http_req_duration?.['p(50)'] ?? 0,
      p95Ms: metrics.http_req_duration?.['p(95)'] ?? 0,
      p99Ms: metrics.http_req_duration?.['p(99)'] ?? 0,
      statusCounts: {},
      generator: 'k6',
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
