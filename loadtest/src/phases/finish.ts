// The last step: the phases' parts put together as results.json (with the settings the run used
// and the machine it ran on), checked against the schema, and written with its reports.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TOKEN_PROFILES } from '../../lib/scenarios.js'
import { commit, machine } from '../machine.ts'
import { CLUSTER_ENV, CONNECTIONS, REVOCATION_WINDOW_MS } from '../profiles.ts'
import { renderHtml, renderMarkdown } from '../report.ts'
import type { Results } from '../results.ts'
import { validateResults } from '../schema.ts'
import type { BenchContext } from './context.ts'

function settings(ctx: BenchContext): Results['settings'] {
  const { profile } = ctx
  const cold = ctx.pools.get('cold')
  return {
    windowS: profile.windowS,
    warmupS: profile.warmupS,
    repetitions: profile.repetitions,
    sameWindowRepetitions: profile.sameWindowRepetitions,
    sameWindowS: profile.sameWindowS,
    latencyS: profile.latencyS,
    connections: CONNECTIONS,
    replicaSweep: ctx.sweep,
    revocationWindowMs: REVOCATION_WINDOW_MS,
    warmPool: `${TOKEN_PROFILES.warm.logins} logins, each credential reused`,
    coldPool: `${cold?.sessions.length ?? 0} sessions and ${cold?.tokens.length ?? 0} distinct access tokens, cycled`,
    jwtVerifyCacheSize: Number(CLUSTER_ENV.JWT_VERIFY_CACHE_SIZE),
    sessionCacheMaxEntries: Number(CLUSTER_ENV.SESSION_CACHE_MAX_ENTRIES),
    sessionCacheTtlMs: Number(CLUSTER_ENV.SESSION_CACHE_TTL_MS),
    pushedMaxStalenessMs: Number(CLUSTER_ENV.PUSHED_MAX_STALENESS_MS),
    phantomCacheTtlMs: Number(CLUSTER_ENV.PHANTOM_CACHE_TTL_MS),
    // How long `jwt` accepts a revoked token: the trade-off chart's point for it.
    ...(ctx.opts.gateway ? {} : { accessTokenTtlS: Number(CLUSTER_ENV.ACCESS_TOKEN_TTL_S) }),
    backgroundRedisCallsPerS: ctx.backgroundCallsPerS,
    redisMode: ctx.opts.gateway ? 'as the gateway has it' : ctx.redisMode,
  }
}

/** results.json, its fields in their documented order; a phase that did not run leaves its default. */
export function assembleResults(ctx: BenchContext): Results {
  const { results: parts } = ctx
  const ran = commit()
  return {
    machine: machine(ctx.pinning),
    ...(ran ? { commit: ran } : {}),
    startedAt: ctx.startedAt,
    finishedAt: new Date().toISOString(),
    profile: ctx.opts.profile,
    gateway: ctx.opts.gateway ?? 'native cluster',
    seed: ctx.seed,
    settings: settings(ctx),
    skipped: ctx.skipped,
    runs: parts.runs ?? [],
    revocation: parts.revocation ?? {},
    ...(parts.permissionChange ? { permissionChange: parts.permissionChange } : {}),
    ...(parts.peerProbe ? { peerProbe: parts.peerProbe } : {}),
    faults: parts.faults ?? {},
    ...(parts.topologies ? { topologies: parts.topologies } : {}),
    ...(parts.network ? { network: parts.network } : {}),
    ...(parts.storage ? { storage: parts.storage } : {}),
    ...(parts.size ? { size: parts.size } : {}),
    ...(parts.tokenLifetime ? { tokenLifetime: parts.tokenLifetime } : {}),
    ...(parts.phantomUncached ? { phantomUncached: parts.phantomUncached } : {}),
    algorithms: parts.algorithms,
    capacityModel: parts.capacityModel ?? { modes: {} },
  }
}

/** Validates `results` and writes it with report.md and report.html to a new directory; returns it. */
export function writeRun(outDir: string, results: Results): string {
  const errors = validateResults(results)
  if (errors.length) throw new Error(`results.json does not match results.schema.json:\n${errors.join('\n')}`)
  const dir = join(outDir, results.startedAt.replace(/[:.]/g, '-'))
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`)
  writeFileSync(join(dir, 'report.md'), renderMarkdown(results))
  writeFileSync(join(dir, 'report.html'), renderHtml(results))
  return dir
}
