// What every phase of a bench run works with: the options and profile, the cluster and the clients
// it holds open, the load generator, progress logging, and what earlier phases produced.
import type { RedisMode } from '@authlab/clients'
import type { Cluster } from '@authlab/cluster'
import type { Redis } from 'ioredis'
import type { Login, TokenProfile } from '../credentials.ts'
import type { LoadGenerator } from '../load.ts'
import type { Profile, ProfileName } from '../profiles.ts'
import type { Results } from '../results.ts'
import type { TextbookLogin } from '../textbook.ts'

export interface BenchOptions {
  profile: ProfileName
  gateway?: string
  redisUrl?: string
  /** The native cluster's Redis: one server (default), a Sentinel set or a Redis Cluster. */
  redisMode?: RedisMode
  /** overrides the profile's failover phase (each Redis topology's primary killed under load) */
  failover?: boolean
  maxReplicas?: number
  /** overrides the profile's network delays (ms one way); [] skips the network phase */
  delaysMs?: number[]
  /** seeds the window order (a fresh one per run when absent; written to results.json to replay) */
  seed?: number
  outDir: string
  log: (line: string) => void
}

/**
 * A token profile's credentials, and when they were issued (they are reissued before they expire);
 * with the textbook peer running, one textbook login per authlab login, issued at the same time.
 */
export type Pool = { sessions: Login[]; tokens: Login[]; textbook?: TextbookLogin[]; builtAt: number }

/** What the bench holds open; `release` closes it whatever happened. */
export interface Held {
  /** the main native cluster (undefined with --gateway, and once a phase with its own cluster stopped it) */
  cluster?: Cluster | undefined
  /** the standalone Redis (the cluster's, or --redis-url) */
  redis?: Redis | undefined
  /** every Redis node, for commands and CPU per request (one node unless sentinel or cluster) */
  redisNodes: Redis[]
  generator?: LoadGenerator | undefined
}

export interface BenchContext extends Held {
  readonly opts: BenchOptions
  readonly profile: Profile
  readonly log: (line: string) => void
  /** this run's id, in the credentials' e-mail addresses */
  readonly runId: string
  readonly startedAt: string
  readonly seed: number
  readonly redisMode: RedisMode
  /** replica counts measured, in order; [0] against a gateway */
  readonly sweep: number[]
  /** what the bench did not measure, and why: results.json's `skipped`, in the order found */
  readonly skipped: string[]
  /** the URL load is sent to: the gateway, or the main cluster's nginx */
  readonly base: string
  generator: LoadGenerator
  /** the load generator's CPUs when the servers are pinned (taskset syntax) */
  readonly generatorCpus: string | undefined
  /** results.json's `machine.pinning` */
  readonly pinning: string
  readonly pools: Map<TokenProfile, Pool>
  /** Redis commands per second with no load (heartbeats, expiries), taken off every window's count */
  backgroundCallsPerS: number
  /** what the phases run so far produced, merged */
  readonly results: Partial<Results>
}

/**
 * One phase of the run. `when` says whether it runs in this bench: true, false when it was not
 * asked for, or the sentence results.json's `skipped` gets when it cannot run here.
 */
export interface Phase {
  when?: (ctx: BenchContext) => boolean | string
  run: (ctx: BenchContext) => Promise<Partial<Results>>
}

/** Whether the main cluster runs the textbook peer (the sweep then measures its rows too). */
export const hasTextbook = (ctx: Pick<BenchContext, 'cluster'>): boolean =>
  (ctx.cluster?.peers.get('textbook')?.length ?? 0) > 0

/** Stops the main cluster, for a phase that starts its own (the two never share the servers' core). */
export async function stopMainCluster(ctx: BenchContext): Promise<void> {
  await ctx.cluster?.close()
  ctx.cluster = undefined
}

/** Closes whatever the bench holds open, in the order it was always closed. */
export async function release(held: Held): Promise<void> {
  held.generator?.close()
  for (const node of held.redisNodes) node.disconnect()
  held.redis?.disconnect()
  await held.cluster?.close()
}
