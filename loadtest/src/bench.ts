// The bench driver (`pnpm bench`): starts the native cluster (or takes --gateway as it is), runs
// the phases in loadtest/src/phases/ in order, and writes results.json with its reports. The
// profiles it runs are in profiles.ts; `--smoke` and `--quick` pick the shorter ones.
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { measureSigning } from './phases/algorithms.ts'
import { capacityApplies, checkCapacity } from './phases/capacity.ts'
import { checkOnRedisCluster, clusterCheckApplies } from './phases/capacity-cluster.ts'
import { type BenchOptions, type Phase, release } from './phases/context.ts'
import { buildCredentials } from './phases/credentials.ts'
import { failoverApplies, killPrimaries } from './phases/failover.ts'
import { faultsApply, injectFaults } from './phases/faults.ts'
import { assembleResults, writeRun } from './phases/finish.ts'
import { measureNetworkDelays, networkApplies } from './phases/network.ts'
import { measurePhantomUncached, phantomUncachedApplies } from './phases/phantom.ts'
import { probeRevocation } from './phases/revocation.ts'
import { measureSizes, sizeApplies } from './phases/size.ts'
import { startBench } from './phases/start.ts'
import { measureStorageCosts, storageApplies } from './phases/storage.ts'
import { sweepReplicas } from './phases/sweep.ts'
import { measureTokenLifetimeCosts, tokenLifetimeApplies } from './phases/token-lifetime.ts'
import { warmUp } from './phases/warm-up.ts'
import type { ProfileName } from './profiles.ts'
import { publishResults } from './publish.ts'
import { costTable, decisionTable, headlineRun } from './report.ts'
import type { Results } from './results.ts'

export type { BenchOptions } from './phases/context.ts'

/** The run after the set-up, in order; each phase's part of results.json is merged into the rest. */
const PHASES: Phase[] = [
  { run: measureSigning },
  { when: storageApplies, run: measureStorageCosts },
  { run: buildCredentials },
  { when: sizeApplies, run: measureSizes },
  { run: warmUp },
  { run: sweepReplicas },
  // Before the faults: the data-loss scenario deletes the sessions this check runs on.
  { when: capacityApplies, run: checkCapacity },
  { when: phantomUncachedApplies, run: measurePhantomUncached },
  { run: probeRevocation },
  // Before the faults, which stop and restart auth and Redis.
  { when: tokenLifetimeApplies, run: measureTokenLifetimeCosts },
  { when: faultsApply, run: injectFaults },
  { when: networkApplies, run: measureNetworkDelays },
  // Stops the main cluster: its own Redis Cluster, after everything that needs the main one.
  { when: clusterCheckApplies, run: checkOnRedisCluster },
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

const USAGE = `Usage: pnpm bench [options]

Starts the native cluster (or uses --gateway), measures every mode and writes results.json with its
reports under --out. Load comes from autocannon (and vegeta, when installed, for fixed-rate latency).

Options:
  --smoke                   seconds; correctness only (what CI runs)
  --quick                   replicas 1 and 2, warm and cold tokens; a few minutes
                            (neither: the full profile)
  --gateway <url>           an existing gateway (http or https), e.g. https://127.0.0.1:8443
  --redis-url <url>         its Redis (redis:// or rediss://), for what the bench reads there
  --redis <topology>        the native cluster's Redis: standalone (default), sentinel or cluster
  --failover, --no-failover add or skip the failover phase (default: as the profile says)
  --max-replicas <n>        cap the replica sweep (a positive integer)
  --seed <n>                replay an earlier run's window order (an integer, 0 to 4294967295)
  --delays <ms,...>         the network phase's one-way delays in ms (none, or empty, skips it)
  --publish                 publish the run to docs/results/ and regenerate the README's table
  --verbose                 every measured window's progress line, not only each phase's
  --out <dir>               where results go (default: loadtest/results)
  -h, --help                this text

The k6 scripts (loadtest/*.js) are for your own k6; the bench never runs k6 (docs/benchmarking.md).
`

/** A command line the bench cannot run: printed without a stack trace, exit code 2. */
export class UsageError extends Error {}

function parseFlags(args: string[]) {
  try {
    return parseArgs({
      args,
      allowNegative: true,
      options: {
        help: { type: 'boolean', short: 'h', default: false },
        quick: { type: 'boolean', default: false },
        smoke: { type: 'boolean', default: false },
        gateway: { type: 'string' },
        'redis-url': { type: 'string' },
        // standalone (default), sentinel or cluster: the native cluster's Redis topology.
        redis: { type: 'string', default: 'standalone' },
        // --failover / --no-failover: the profile decides by default (full: on).
        failover: { type: 'boolean' },
        'max-replicas': { type: 'string' },
        seed: { type: 'string' },
        delays: { type: 'string' },
        // Publish the run to docs/results and regenerate the README's decision table from it.
        publish: { type: 'boolean', default: false },
        // Every progress line (each measured window), not only each phase's.
        verbose: { type: 'boolean', default: false },
        out: { type: 'string', default: join(import.meta.dirname, '..', 'results') },
      },
    }).values
  } catch (err) {
    // parseArgs' own errors (unknown option, missing value) carry a code ERR_PARSE_ARGS_*.
    if (String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS'))
      throw new UsageError((err as Error).message)
    throw err
  }
}

/** `text` as an integer in [min, max], or a UsageError naming `flag`. */
function integer(flag: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN
  if (!(Number.isSafeInteger(value) && value >= min && value <= max))
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}, not "${text}"`)
  return value
}

/** `text` as an http(s) or redis URL with a valid port, or a UsageError naming `flag`. */
function url(flag: string, text: string, protocols: string[]): string {
  let parsed: URL
  try {
    parsed = new URL(text)
  } catch {
    throw new UsageError(`${flag} must be a URL (${protocols.join(' or ')}), not "${text}"`)
  }
  if (!protocols.includes(parsed.protocol.slice(0, -1)))
    throw new UsageError(`${flag} must be a ${protocols.join(' or ')} URL, not "${text}"`)
  // WHATWG URL parsing already refuses a port outside 0-65535; 0 cannot be connected to.
  if (parsed.port === '0') throw new UsageError(`${flag} has port 0: "${text}"`)
  return text
}

/** `--delays`: none (or empty) for [], else one-way delays in ms, each a finite number ≥ 0. */
function delays(text: string): number[] {
  if (text.trim() === '' || text.trim() === 'none') return []
  return text.split(',').map((part) => {
    const value = part.trim() === '' ? Number.NaN : Number(part)
    if (!(Number.isFinite(value) && value >= 0 && value <= 60_000))
      throw new UsageError(
        `--delays takes milliseconds from 0 to 60000, comma-separated (or none), not "${part}"`,
      )
    return value
  })
}

/** What a command line asks for: the bench's options, and how to report the run. */
export interface Cli {
  bench: Omit<BenchOptions, 'log'>
  verbose: boolean
  publish: boolean
}

/** What a command line asks for, or `help`; throws a UsageError on a flag or value the bench cannot run. */
export function cliOptions(args: string[]): Cli | 'help' {
  const values = parseFlags(args)
  if (values.help) return 'help'
  const profile: ProfileName = values.smoke ? 'smoke' : values.quick ? 'quick' : 'full'
  const redisMode = values.redis
  if (redisMode !== 'standalone' && redisMode !== 'sentinel' && redisMode !== 'cluster')
    throw new UsageError('--redis must be standalone, sentinel or cluster')
  if (redisMode !== 'standalone' && values.gateway)
    throw new UsageError('--redis starts a native cluster; with --gateway the gateway has its own Redis')
  const bench: Cli['bench'] = {
    profile,
    redisMode,
    ...(values.failover !== undefined ? { failover: values.failover } : {}),
    outDir: values.out,
    ...(values.gateway
      ? { gateway: url('--gateway', values.gateway, ['http', 'https']).replace(/\/$/, '') }
      : {}),
    ...(values['redis-url']
      ? { redisUrl: url('--redis-url', values['redis-url'], ['redis', 'rediss']) }
      : {}),
    ...(values['max-replicas'] !== undefined
      ? { maxReplicas: integer('--max-replicas', values['max-replicas'], 1, 64) }
      : {}),
    ...(values.seed !== undefined ? { seed: integer('--seed', values.seed, 0, 2 ** 32 - 1) } : {}),
    ...(values.delays !== undefined ? { delaysMs: delays(values.delays) } : {}),
  }
  return { bench, verbose: values.verbose, publish: values.publish }
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

async function main(args: string[]): Promise<void> {
  let cli: ReturnType<typeof cliOptions>
  try {
    cli = cliOptions(args)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    console.error(`bench: ${err.message}\nRun pnpm bench --help for the options.`)
    process.exitCode = 2
    return
  }
  if (cli === 'help') {
    process.stdout.write(USAGE)
    return
  }
  const { bench, verbose, publish } = cli
  const started = Date.now()
  const stamp = () => `[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s]`
  const { results, dir } = await runBench({
    ...bench,
    // A phase's own lines start flush; the lines of each window it measures are indented.
    log: (line) => {
      if (verbose || !line.startsWith(' ')) console.error(`${stamp()} ${line}`)
    },
  })
  console.log(`\n${decisionSummary(results)}\n`)
  console.log(`results: ${join(dir, 'results.json')}`)
  console.log(`report:  ${join(dir, 'report.html')} (and report.md)`)
  if (publish) console.log(`published: ${await publishResults(results)} and README.md's decision table`)
}

if (import.meta.main) {
  await main(process.argv.slice(2))
  // Something a phase left open must not keep a finished run alive: it is named, then the run exits.
  setTimeout(() => {
    console.error(`bench: still open after the run: ${process.getActiveResourcesInfo().join(', ')}`)
    process.exit()
  }, 10_000).unref()
}
