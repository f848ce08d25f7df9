// `pnpm plan`: what a workload needs in each mode, from a results.json (the latest published run
// by default). node loadtest/src/plan.ts --help lists the options.
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { assumptionList, planTable, workloadLine } from './plan-table.ts'
import { plan, type Workload } from './planner.ts'
import { latestPublished } from './publish.ts'
import type { Results } from './results.ts'
import { validateResults } from './schema.ts'

const USAGE = `Usage: pnpm plan [options]

Prints, per mode, what a workload needs: replica cores, Redis cores and Redis Cluster primaries,
Redis memory, pub/sub messages, auth and Postgres load, gateway bandwidth, and where each mode's
first bottleneck is, from a bench run's measured costs.

Options:
  --results <file>        a results.json (default: the latest run in docs/results/)
  --rps <n>               requests per second to the services (default 10000)
  --active-users <n>      users with a live login (default 1000000)
  --logins-per-s <n>      default: active users ÷ 86400 (each logs in once a day)
  --revocations-per-s <n> logouts and revocations (default: as many as logins)
  --ttl <s>               access-token lifetime, ACCESS_TOKEN_TTL_S (default 300)
  --cores <n>             cores per replica (default 1)
  --utilization <f>       share of each core planned at this load, 0 < f <= 1 (default 0.6)
  -h, --help              this text
`

export class UsageError extends Error {}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isFinite(value) || value <= 0)
    throw new UsageError(`--${name} must be a positive number, not ${JSON.stringify(text)}`)
  return value
}

export function parsePlanArgs(
  args: string[],
): { help: true } | { help: false; results?: string; workload: Workload } {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args,
      options: {
        help: { type: 'boolean', short: 'h' },
        results: { type: 'string' },
        rps: { type: 'string' },
        'active-users': { type: 'string' },
        'logins-per-s': { type: 'string' },
        'revocations-per-s': { type: 'string' },
        ttl: { type: 'string' },
        cores: { type: 'string' },
        utilization: { type: 'string' },
      },
    }))
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (values.help) return { help: true }
  const s = (k: string) => values[k] as string | undefined
  const activeUsers = positive('active-users', s('active-users'), 1e6)
  const loginsPerS = positive('logins-per-s', s('logins-per-s'), activeUsers / 86_400)
  const utilization = positive('utilization', s('utilization'), 0.6)
  if (utilization > 1) throw new UsageError('--utilization must be at most 1')
  const workload: Workload = {
    rps: positive('rps', s('rps'), 10_000),
    activeUsers,
    loginsPerS,
    revocationsPerS: positive('revocations-per-s', s('revocations-per-s'), loginsPerS),
    ttlS: positive('ttl', s('ttl'), 300),
    coresPerReplica: positive('cores', s('cores'), 1),
    utilization,
  }
  return { help: false, ...(s('results') ? { results: s('results') } : {}), workload }
}

async function load(file: string | undefined): Promise<Results> {
  const r = file ? (JSON.parse(await readFile(file, 'utf8')) as Results) : await latestPublished()
  if (!r) throw new UsageError('no published run in docs/results/: pass --results <results.json>')
  const errors = validateResults(r)
  if (errors.length)
    throw new UsageError(`${file ?? 'the latest run'} does not match its schema: ${errors[0]}`)
  return r
}

export async function planText(args: string[]): Promise<string> {
  const parsed = parsePlanArgs(args)
  if (parsed.help) return USAGE
  const r = await load(parsed.results)
  return [
    `Plan for ${workloadLine(parsed.workload)}.`,
    `From the ${r.profile} run of ${r.startedAt.slice(0, 10)} (seed ${r.seed}) on ${r.machine.cpuModel ?? r.machine.platform}.`,
    '',
    planTable(plan(r, parsed.workload)),
    '',
    'Each column assumes:',
    assumptionList(),
    '',
  ].join('\n')
}

if (import.meta.main) {
  try {
    process.stdout.write(await planText(process.argv.slice(2)))
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    console.error(`pnpm plan: ${err.message}`)
    process.exitCode = 2
  }
}
