// The planner's table as markdown: `pnpm plan` prints it, docs/planning.md is made of it.
import { markdownTable } from 'markdown-table'
import { type ModePlan, PLAN_ASSUMPTIONS, type Workload } from './planner.ts'

const n = (x: number, digits = 1) =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits }) : 'not measured'
const si = (x: number, unit: string) => {
  if (!Number.isFinite(x)) return 'not measured'
  const steps: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ]
  const [div, prefix] = steps.find(([d]) => Math.abs(x) >= d) ?? [1, '']
  return `${n(x / div, x / div < 10 ? 2 : 0)} ${prefix}${unit}`
}
const bytes = (x: number) => (Number.isFinite(x) ? si(x, 'B') : 'not measured')

export const PLAN_HEAD = [
  'mode',
  'replica cores (replicas)',
  'Redis cores (primaries)',
  'Redis memory',
  'pub/sub msg/s',
  'auth cores',
  'Postgres cores',
  'refreshes/s (Postgres writes/s)',
  'gateway in / out',
  'first to saturate as req/s grow',
]

export function planRow(p: ModePlan): string[] {
  return [
    `\`${p.mode}\``,
    `${n(p.replicaCores)} (${n(p.replicas, 0)})`,
    `${n(p.redisCores, 2)} (${n(p.redisShards, 0)})`,
    bytes(p.redisMemoryBytes),
    n(p.pubSubMessagesPerS, 0),
    n(p.authCores, 2),
    n(p.postgresCores, 2),
    `${n(p.refreshesPerS, 0)} (${n(p.postgresWritesPerS, 0)})`,
    `${si(p.gatewayBitsPerS.in, 'bit/s')} / ${si(p.gatewayBitsPerS.out, 'bit/s')}`,
    Number.isFinite(p.firstBottleneck.atRps)
      ? `${p.firstBottleneck.part} at ${si(p.firstBottleneck.atRps, 'req/s')}`
      : 'none but the replicas: add them',
  ]
}

export function workloadLine(w: Workload): string {
  return `${si(w.rps, 'req/s')}, ${si(w.activeUsers, '')} active users, ${n(w.loginsPerS, 0)} logins/s, ${n(w.revocationsPerS, 0)} revocations/s, access tokens living ${w.ttlS} s, ${w.coresPerReplica} ${w.coresPerReplica === 1 ? 'core' : 'cores'} per replica, each tier planned at ${Math.round(w.utilization * 100)} % of its cores`
}

export function planTable(plans: readonly ModePlan[]): string {
  return markdownTable([PLAN_HEAD, ...plans.map(planRow)])
}

export function assumptionList(): string {
  return Object.entries(PLAN_ASSUMPTIONS)
    .map(([k, v]) => `- ${k}: ${v}`)
    .join('\n')
}
