// What a bench run measures and for how long: the three profiles (`--smoke`, `--quick`, the full
// default) and the settings every profile shares. Plain data, tuned here and nowhere else.
import { UNLIMITED_LOGINS_ENV } from '@authlab/cluster'
import type { TokenProfile } from './credentials.ts'

export type ProfileName = 'smoke' | 'quick' | 'full'

export interface Profile {
  /** replicas per service, one cluster size after the other */
  sweep: number[]
  tokenProfiles: TokenProfile[]
  windowS: number
  warmupS: number
  repetitions: number
  /** same-window repetitions: the mode on one service, `none` on the other, in one window */
  sameWindowRepetitions: number
  sameWindowS: number
  sameWindowWarmupS: number
  latencyS: number
  revocationTrials: number
  faultPhaseMs: number
  capacityValidation: boolean
  /** cap on cold-profile logins (argon2 per login is the slow part of the setup) */
  coldLogins: number
  /** measure the cold profile at every replica count, or only at the largest */
  coldAtEveryCount: boolean
  /** measure fixed-rate latency at every replica count, or only at the largest */
  latencyAtEveryCount: boolean
  /** one-way delays (ms) put between the replicas and Redis/auth for the network phase; [] skips it */
  delaysMs: number[]
  /** kill the Redis primary under load in each topology (standalone, sentinel, cluster) */
  failover: boolean
  /** the failover phase's own quick form (fewer, shorter windows) */
  quickFailover: boolean
  /** tokens per algorithm in the signing micro-bench */
  algorithmTokens: number
  /** live sessions and revocations the storage phase measures at, one size after the other */
  storageSizes: number[]
  /** requests per mode the size phase sends through the gateway's byte count; 0 skips the phase */
  sizeRequestsPerMode: number
  /** the token-lifetime phase: access-token lifetimes swept, each at its own refresh rate */
  tokenLifetime: TokenLifetimeProfile
}

export interface TokenLifetimeProfile {
  /** access-token lifetimes (s); [] skips the phase */
  ttlsS: number[]
  /** the simulated population: each lifetime is refreshed at activeUsers / ttl per second */
  activeUsers: number
  /** each lifetime's shortest window (s), longer where minRefreshes at its rate need longer */
  windowS: number
  minRefreshes: number
  /** logins the refreshes rotate through */
  logins: number
}

export const PROFILES: Record<ProfileName, Profile> = {
  smoke: {
    sweep: [2],
    tokenProfiles: ['warm'],
    windowS: 0.5,
    warmupS: 0,
    repetitions: 2,
    sameWindowRepetitions: 2,
    sameWindowS: 0.3,
    sameWindowWarmupS: 0.1,
    latencyS: 0.5,
    revocationTrials: 3,
    faultPhaseMs: 800,
    capacityValidation: false,
    failover: false,
    quickFailover: true,
    algorithmTokens: 1000,
    storageSizes: [1000],
    sizeRequestsPerMode: 100,
    tokenLifetime: { ttlsS: [60], activeUsers: 600, windowS: 1, minRefreshes: 10, logins: 8 },
    coldLogins: 40,
    coldAtEveryCount: false,
    latencyAtEveryCount: true,
    delaysMs: [],
  },
  // The demo: about three minutes, spent where the noise is lowest. One replica per service (two
  // processes per service on two cores read far noisier), and many short same-window repetitions,
  // whose median the host's speed changes cannot move, rather than sequential windows.
  quick: {
    sweep: [1],
    tokenProfiles: ['warm', 'cold'],
    windowS: 0.5,
    warmupS: 0.2,
    repetitions: 2,
    sameWindowRepetitions: 16,
    sameWindowS: 0.35,
    sameWindowWarmupS: 0.1,
    latencyS: 0.5,
    revocationTrials: 3,
    faultPhaseMs: 600,
    capacityValidation: true,
    failover: false,
    quickFailover: true,
    algorithmTokens: 1000,
    storageSizes: [1000, 10_000],
    sizeRequestsPerMode: 300,
    tokenLifetime: { ttlsS: [30, 300, 3600], activeUsers: 3000, windowS: 3, minRefreshes: 10, logins: 24 },
    coldLogins: 64,
    coldAtEveryCount: false,
    latencyAtEveryCount: false,
    delaysMs: [],
  },
  full: {
    sweep: [1, 2, 4],
    tokenProfiles: ['warm', 'cold'],
    // Many short interleaved windows beat a few long ones: drift between repetitions cancels in
    // the paired ratios, and the bootstrap interval narrows with the repetition count.
    windowS: 1,
    warmupS: 0.5,
    repetitions: 6,
    // The cost ratios come from here: many short paired windows, whose median the host's speed
    // changes cannot move (see measureSameWindow).
    sameWindowRepetitions: 16,
    sameWindowS: 0.75,
    sameWindowWarmupS: 0.25,
    latencyS: 2,
    revocationTrials: 30,
    faultPhaseMs: 3000,
    capacityValidation: true,
    failover: true,
    quickFailover: false,
    algorithmTokens: 4000,
    storageSizes: [10_000, 100_000, 1_000_000],
    sizeRequestsPerMode: 2000,
    tokenLifetime: {
      ttlsS: [30, 60, 300, 900, 3600],
      activeUsers: 3000,
      windowS: 10,
      minRefreshes: 30,
      logins: 64,
    },
    coldLogins: 150,
    coldAtEveryCount: false,
    latencyAtEveryCount: true,
    delaysMs: [0, 0.25, 0.5, 1],
  },
}

// Bench cluster settings: caches smaller than the cold pool's share per replica and larger than
// the warm pool's, so the token profiles are what they say.
export const CLUSTER_ENV = {
  // A full run lasts longer than the default 5-minute access TTL; the pools are refreshed anyway.
  ACCESS_TOKEN_TTL_S: '3600',
  ...UNLIMITED_LOGINS_ENV,
  JWT_VERIFY_CACHE_SIZE: '32',
  SESSION_CACHE_MAX_ENTRIES: '8',
  SESSION_CACHE_TTL_MS: '1000',
  PUSHED_MAX_STALENESS_MS: '2000',
  PHANTOM_CACHE_TTL_MS: '1000',
  LOG_LEVEL: 'warn',
}

/** keep-alive connections of every saturating window */
export const CONNECTIONS = 24
export const REVOCATION_WINDOW_MS = 2500
/** after a fault is repaired, how long every mode gets to recover before revoked credentials are tried */
export const FAULT_SETTLE_MS = 2500
/** the network phase's fixed arrival rate and window per mode and delay */
export const NETWORK_RATE_RPS = 200
export const NETWORK_WINDOW_S = 2
/** with --gateway, logins per token profile (its rate limits and TTLs are not ours to set) */
export const GATEWAY_LOGINS = 10
