import type { Results, Run } from '../../results.ts'
import { decisionRun, f0, f2, modesOf, pct, sameWindow } from '../format.ts'
import { MODE_FACTS } from '../mode-facts.ts'
import type { Block } from '../model.ts'

/** The fault the "Redis down" column reports, as the bench names it. */
const REDIS_DOWN = 'redis-stopped'

/** The bounds the facts name by variable, with the value this run set. */
const BOUND_SETTINGS: Record<string, string> = {
  SESSION_CACHE_TTL_MS: 'sessionCacheTtlMs',
  PUSHED_MAX_STALENESS_MS: 'pushedMaxStalenessMs',
  PHANTOM_CACHE_TTL_MS: 'phantomCacheTtlMs',
}

function withValues(r: Results, text: string): string {
  return text.replace(/`([A-Z_]+)`/, (whole, name: string) => {
    const value = Number(r.settings[BOUND_SETTINGS[name] ?? ''])
    return Number.isFinite(value) ? `${whole} (${f0(value)} ms in this run)` : whole
  })
}

function windowCell(
  r: Results,
  probe: Results['revocation'] | undefined,
  mode: string,
  bound: string,
): string {
  const v = probe?.[mode]
  bound = withValues(r, bound)
  if (!v) return bound
  if (v.censored) {
    const ttl = Number(r.settings.accessTokenTtlS)
    const lifetime = Number.isFinite(ttl) ? ` (tokens lived ${f0(ttl)} s in this run)` : ''
    return `${bound}${lifetime}: accepted throughout the ${f0(v.windowMsMax / 1000)} s probe`
  }
  return `${bound}: p99 ${f0(v.windowMsP99)} ms, max ${f0(v.windowMsMax)} ms (${v.trials} trials, ${v.replicasSeen} replicas)`
}

function redisDownCell(r: Results, mode: string, stated: string): string {
  const o = r.faults[REDIS_DOWN]?.[mode]
  if (!o) return stated
  const codes = Object.entries(o.statusCounts)
    .filter(([c]) => c !== '200')
    .map(([c, n]) => `${c}×${n}`)
    .join(' ')
  return `${stated}: ${o.ok}/${o.requests} ok${codes ? `, ${codes}` : ''}`
}

function rows(r: Results, run: Run): string[][] {
  return modesOf(run).map((mode) => {
    const m = run.modes[mode]!
    const facts = MODE_FACTS[mode]
    return [
      `\`${mode}\``,
      facts.credential,
      facts.work,
      mode === 'none' ? '1.00×' : sameWindow(m),
      f2(m.redisCommandsPerRequest),
      windowCell(r, r.revocation, mode, facts.bound),
      windowCell(r, r.permissionChange, mode, facts.permissionChange),
      redisDownCell(r, mode, facts.redisDown),
    ]
  })
}

function measuredWindows(r: Results): string {
  return r.permissionChange
    ? 'Revocation: after logout-all; permission change: after an admin withdrew `admin`; both measured on every replica.'
    : 'Revocation: after logout-all, measured on every replica. Permission change: as the mode defines it (this run did not probe it).'
}

/** Per mode: what it is, what it costs, how long a revocation takes, and what a Redis outage does. */
export function decisionTable(r: Results): { caption: string; head: string[]; rows: string[][] } | undefined {
  const run = decisionRun(r)
  if (!run) return undefined
  const floor = run.sameWindow ? `±${pct(run.sameWindow.noiseFloor)}` : 'not measured'
  return {
    caption:
      `${run.replicas} replica(s) per service, ${run.tokenProfile} tokens, ${run.algorithm}; same-window A/A noise floor ${floor} ` +
      `(ratios inside it are marked "within noise"). ${measuredWindows(r)} ` +
      `Redis down: answers while Redis was stopped (fault \`${REDIS_DOWN}\`).`,
    head: [
      'mode',
      'credential',
      'work per request',
      'replica CPU vs `none` (same window, 95 % CI)',
      'Redis commands / request',
      'a revocation takes effect',
      'a permission change takes effect',
      'Redis down',
    ],
    rows: rows(r, run),
  }
}

export function decision(r: Results): Block[] {
  const table = decisionTable(r)
  if (!table) return []
  return [
    { kind: 'h2', text: 'Decision table' },
    { kind: 'p', text: table.caption },
    { kind: 'table', head: table.head, rows: table.rows },
  ]
}
