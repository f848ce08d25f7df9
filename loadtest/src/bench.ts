// The bench driver (`pnpm bench`): starts the native cluster (or takes --gateway as it is), runs
// the phases in loadtest/src/phases/ in order, and writes results.json with its reports. The
// profiles it runs are in profiles.ts; `--smoke` and `--quick` pick the shorter ones.
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { hasBinary } from '@authlab/servers'
import { measureSigning } from './phases/algorithms.ts'
import { capacityApplies, checkCapacity } from './phases/capacity.ts'
import { type BenchOptions, type Phase, release } from './phases/context.ts'
import { buildCredentials } from './phases/credentials.ts'
import { failoverApplies, killPrimaries } from './phases/failover.ts'
import { faultsApply, injectFaults } from './phases/faults.ts'
import { assembleResults, writeRun } from './phases/finish.ts'
import { measureNetworkDelays, networkApplies } from './phases/network.ts'
import { probeRevocation } from './phases/revocation.ts'
import { startBench } from './phases/start.ts'
import { sweepReplicas } from './phases/sweep.ts'
import { warmUp } from './phases/warm-up.ts'
import type { ProfileName } from './profiles.ts'
import { publishResults } from './publish.ts'
import { costTable, decisionTable, headlineRun } from './report.ts'
import type { Results } from './results.ts'

export type { BenchOptions } from './phases/context.ts'

/** The run after the set-up, in order; each phase's part of results.json is merged into the rest. */
const PHASES: Phase[] = [
  { run: measureSigning },
  { run: buildCredentials },
  { run: warmUp },
  { run: sweepReplicas },
  // Before the faults: the data-loss scenario deletes the sessions this check runs on.
  { when: capacityApplies, run: checkCapacity },
  { run: probeRevocation },
  { when: faultsApply, run: injectFaults },
  { when: networkApplies, run: measureNetworkDelays },
  { when: failoverApplies, run: killPrimaries },
]

export async function runBench(opts: BenchOptions): Promise<{ results: Results; dir: string }> {
  const ctx = await startBench(opts)
  try {
    for (const phase of PHASES) {
      const when = phase.when?.(ctx) ?? true
      if (typeof when === 'string') ctx.skipped.push(when)
      else if (when) Object.assign(ctx.results, await phase.run(ctx))
    }
    const results = assembleResults(ctx)
    return { results, dir: writeRun(opts.outDir, results) }
  } finally {
    await release(ctx)
  }
}

export function comparisonTable(results: Results): string {
  const head = headlineRun(results)
  return head ? costTable(head) : '(no runs)'
}

function parseFlags() {
  return parseArgs({
    allowNegative: true,
    options: {
      quick: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      gateway: { type: 'string' },
      'redis-url': { type: 'string' },
      // standalone (default), sentinel or cluster: the native cluster's Redis topology.
      redis: { type: 'string', default: 'standalone' },
      // --failover / --no-failover: the profile decides by default (full: on).
      failover: { type: 'boolean' },
      'max-replicas': { type: 'string' },
      generator: { type: 'string', default: 'native' },
      seed: { type: 'string' },
      delays: { type: 'string' },
      // Publish the run to docs/results and regenerate the README's decision table from it.
      publish: { type: 'boolean', default: false },
      // Every progress line (each measured window), not only each phase's.
      verbose: { type: 'boolean', default: false },
      out: { type: 'string', default: new URL('../results', import.meta.url).pathname },
    },
  }).values
}

/** The options the command line asks for; throws on a flag value the bench cannot run. */
function cliOptions(values: ReturnType<typeof parseFlags>): Omit<BenchOptions, 'log'> {
  if (values.generator !== 'native' && values.generator !== 'k6')
    throw new Error('--generator must be native or k6')
  if (values.generator === 'k6' && !hasBinary('k6'))
    throw new Error('--generator k6 needs a k6 on PATH (authlab does not install it)')
  const profile: ProfileName = values.smoke ? 'smoke' : values.quick ? 'quick' : 'full'
  const redisMode = values.redis
  if (redisMode !== 'standalone' && redisMode !== 'sentinel' && redisMode !== 'cluster')
    throw new Error('--redis must be standalone, sentinel or cluster')
  if (redisMode !== 'standalone' && values.gateway)
    throw new Error('--redis starts a native cluster; with --gateway the gateway has its own Redis')
  return {
    profile,
    generator: values.generator,
    redisMode,
    ...(values.failover !== undefined ? { failover: values.failover } : {}),
    outDir: values.out,
    ...(values.gateway ? { gateway: values.gateway.replace(/\/$/, '') } : {}),
    ...(values['redis-url'] ? { redisUrl: values['redis-url'] } : {}),
    ...(values['max-replicas'] ? { maxReplicas: Number(values['max-replicas']) } : {}),
    ...(values.seed ? { seed: Number(values.seed) } : {}),
    ...(values.delays !== undefined
      ? { delaysMs: values.delays === 'none' ? [] : values.delays.split(',').map(Number) }
      : {}),
  }
}

/** The lines a reader needs first: the decision table and the noise floor it was read against. */
function decisionSummary(results: Results): string {
  const table = decisionTable(results)
  if (!table) return comparisonTable(results)
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`
  return [row(table.head), row(table.head.map(() => '-')), ...table.rows.map(row), '', table.caption].join(
    '\n',
  )
}

async function main(): Promise<void> {
  const flags = parseFlags()
  const options = cliOptions(flags)
  const started = Date.now()
  const stamp = () => `[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s]`
  const { results, dir } = await runBench({
    ...options,
    // A phase's own lines start flush; the lines of each window it measures are indented.
    log: (line) => {
      if (flags.verbose || !line.startsWith(' ')) console.error(`${stamp()} ${line}`)
    },
  })
  console.log(`\n${decisionSummary(results)}\n`)
  console.log(`results: ${join(dir, 'results.json')}`)
  console.log(`report:  ${join(dir, 'report.html')} (and report.md)`)
  if (flags.publish) console.log(`published: ${await publishResults(results)} and README.md's decision table`)
}

if (import.meta.main) await main()
