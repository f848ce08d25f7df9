import type { Results } from '../../results.ts'
import { f0, f2, headlineRun } from '../format.ts'
import type { Block } from '../model.ts'

/**
 * Where phantom pays: at the gateway and in auth, not in the replicas. Its row of the sweep (the
 * default cache) beside the same mode with the cache off, where every request is an exchange.
 */
export function phantom(r: Results): Block[] {
  const off = r.phantomUncached
  const run = headlineRun(r)
  const on = run?.modes.phantom
  if (!off || !on) return []
  const setting = Number(r.settings.phantomCacheTtlMs)
  const row = (label: string, c: typeof off | typeof on) => [
    label,
    f0(c.rps),
    f2(c.replicaCpuUsPerRequest),
    f2(c.nginxCpuUsPerRequest),
    f2(c.authCpuUsPerRequest),
    f2(c.redisCpuUsPerRequest),
    f2(c.redisCommandsPerRequest),
  ]
  return [
    { kind: 'h2', text: 'phantom: what the gateway cache buys' },
    {
      kind: 'p',
      text: `phantom's replicas verify a local token; its cost is nginx's subrequest and auth's exchange (one session read in Redis). With the cache (\`PHANTOM_CACHE_TTL_MS=${Number.isFinite(setting) ? setting : 'default'}\`, the bound a revocation waits) one exchange serves a session for that long; with 0 every request is exchanged. Sequential windows at saturation, CPU µs per request by tier; the cached row at ${run?.replicas} replica(s) per service, the uncached at ${off.replicas}.`,
    },
    {
      kind: 'table',
      head: ['phantom', 'req/s', 'replica µs', 'nginx µs', 'auth µs', 'Redis µs', 'Redis commands'],
      rows: [row('cache on', on), row('cache off (0)', off)],
    },
  ]
}
