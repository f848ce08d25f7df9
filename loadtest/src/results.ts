// The one definition of results.json: the TypeScript types and results.schema.json both come from
// it (`pnpm --filter @authlab/loadtest schema` writes the file; a test fails when it is stale).
import { type Static, Type } from 'typebox'
import { MODES, PEER_ROWS } from '../lib/scenarios.js'
import { Calibration, ModelCheck } from './capacity-results.ts'
import { SizeRun } from './size-results.ts'
import { StorageRun } from './storage-results.ts'
import { TokenLifetimeRun } from './token-lifetime-results.ts'

const Num = Type.Number({ minimum: 0 })
const Count = Type.Integer({ minimum: 0 })
/**
 * A figure that may not have been measured: NaN in memory, null in JSON (JSON.stringify's own
 * mapping), so the arithmetic needs no null checks and the file says "not measured" honestly.
 */
const Measured = (description: string) =>
  Type.Unsafe<number>({ anyOf: [{ type: 'number', minimum: 0 }, { type: 'null' }], description })
const notMeasured = 'null when not measured (--gateway, or no successful request)'
const ModeName = Type.Union(MODES.map((m) => Type.Literal(m)))
const PeerRowName = Type.Union(PEER_ROWS.map((m) => Type.Literal(m)))

/** A median over repetitions with its 95 % bootstrap interval. */
export const Estimate = Type.Object({
  median: Measured('median over repetitions'),
  lo: Measured('2.5th percentile of the bootstrap distribution of the median'),
  hi: Measured('97.5th percentile of the bootstrap distribution of the median'),
})
export type Estimate = Static<typeof Estimate>

/** Ratios of a mode to the `none` baseline measured in the same repetition (paired). */
export const Ratios = Type.Object({
  rps: Estimate,
  replicaCpu: Estimate,
  totalCpu: Estimate,
})
export type Ratios = Static<typeof Ratios>

export const ModeRun = Type.Object({
  rps: Num,
  rpsSpread: Type.Number({ minimum: 0, description: '(max − min) / median of saturation throughput' }),
  rpsInterval: Type.Optional(Estimate),
  p50Ms: Measured('null when latency was not measured at this replica count'),
  p95Ms: Measured('null when latency was not measured at this replica count'),
  p99Ms: Measured('null when latency was not measured at this replica count'),
  latencyRate: Num,
  errors: Count,
  redisCommandsPerRequest: Measured(notMeasured),
  redisCpuUsPerRequest: Measured(notMeasured),
  replicaCpuUsPerRequest: Measured(notMeasured),
  replicaCpuInterval: Type.Optional(Estimate),
  nginxCpuUsPerRequest: Measured(notMeasured),
  authCpuUsPerRequest: Measured(notMeasured),
  vsNone: Type.Optional(Ratios),
  withinNoise: Type.Optional(
    Type.Object({
      rps: Type.Boolean(),
      replicaCpu: Type.Boolean(),
      totalCpu: Type.Boolean(),
    }),
  ),
  /**
   * Replica CPU per request over `none`'s, both measured in the same windows (one service answers
   * the mode, the other `none`): the host's speed changes cancel. Absent for `none` itself.
   */
  sameWindow: Type.Optional(
    Type.Object({
      replicaCpu: Estimate,
      withinNoise: Type.Boolean({ description: 'within the same-window A/A noise floor' }),
      /**
       * The server core's CPU per request over `none`'s, same window: the mode side's replicas plus
       * Redis, auth and Postgres, against `none`'s replicas, each with half of nginx. Its inverse is
       * the mode's throughput relative to `none` wherever the server core is the bottleneck.
       */
      serverCpu: Type.Optional(Estimate),
      serverWithinNoise: Type.Optional(Type.Boolean()),
      /** event-loop context switches per request on the mode's replicas and on `none`'s, same window */
      wakeups: Type.Optional(Type.Object({ mode: Estimate, none: Estimate })),
    }),
  ),
})
export type ModeRun = Static<typeof ModeRun>

export const Run = Type.Object({
  replicas: Count,
  tokenProfile: Type.Union([Type.Literal('warm'), Type.Literal('cold')]),
  algorithm: Type.Union([Type.Literal('EdDSA'), Type.Literal('ES256'), Type.Literal('RS256')]),
  generator: Type.String(),
  latencyGenerator: Type.String(),
  modes: Type.Record(Type.String(), ModeRun, { propertyNames: ModeName }),
  /**
   * The textbook peer's rows (the tutorial code, services/textbook), measured in the same windows as
   * the modes; their same-window side is the peer's replicas. Absent where the peer did not run.
   */
  peers: Type.Optional(Type.Record(Type.String(), ModeRun, { propertyNames: PeerRowName })),
  /** the order of the measured windows in each repetition (`none` appears twice: the A/A control) */
  order: Type.Optional(Type.Array(Type.Array(Type.String()))),
  /**
   * The A/A control: the later `none` window over the earlier one in each repetition. Identical
   * configurations, so anything but 1.00 is the run's noise (drift, position, the VM).
   */
  aa: Type.Optional(Ratios),
  /** per metric, the largest distance from 1 of the A/A interval: smaller differences are noise */
  noiseFloor: Type.Optional(Type.Object({ rps: Num, replicaCpu: Num, totalCpu: Num })),
  /** the same-window design's A/A control (`none` on both services) and its noise floor */
  sameWindow: Type.Optional(
    Type.Object({
      aa: Estimate,
      noiseFloor: Num,
      /** the A/A control of the server-core ratio, and its floor */
      serverAa: Type.Optional(Estimate),
      serverNoiseFloor: Type.Optional(Num),
      repetitions: Count,
      windowS: Num,
      /** per repetition, `slot@service` in the order measured */
      order: Type.Array(Type.Array(Type.String())),
    }),
  ),
})
export type Run = Static<typeof Run>

export const RevocationSummary = Type.Object({
  windowMsP50: Num,
  windowMsP99: Num,
  windowMsMax: Num,
  acceptedAfterRevoke: Count,
  /** distinct replicas that answered this mode during the probe (proves the spread) */
  replicasSeen: Count,
  /** distinct replicas that accepted the credential after logout-all returned */
  replicasAcceptingAfterRevoke: Count,
  trials: Type.Integer({ minimum: 1 }),
  /**
   * per replica (`service:replica`), its window in each trial: how long after logout-all returned
   * a request to it could still start and be accepted (0 when it refused from the start)
   */
  replicaWindowsMs: Type.Optional(Type.Record(Type.String(), Type.Array(Num))),
  /** true for `jwt`: it accepts until exp by design, so the window is at least the probe's length */
  censored: Type.Boolean(),
})
export type RevocationSummary = Static<typeof RevocationSummary>

export const FaultOutcome = Type.Object({
  requests: Count,
  ok: Count,
  statusCounts: Type.Record(Type.String(), Count),
  /** requests made with an already-revoked credential after recovery that were accepted (must be 0) */
  revokedAccepted: Count,
})
export type FaultOutcome = Static<typeof FaultOutcome>

/** One mode through a Redis failover (loadtest/src/failover.ts). */
export const FailoverModeOutcome = Type.Object({
  requests: Count,
  /** live credentials refused or failed (any status but 200) */
  errors: Count,
  /** from the start of the first failed request to the end of the last one; 0 with none */
  errorWindowMs: Num,
  /** when the first failed request started and the last one ended, ms after the kill */
  errorsFromMs: Type.Optional(Type.Number()),
  errorsUntilMs: Type.Optional(Type.Number()),
  /** requests with a revoked credential started after its revocation returned plus the mode's bound */
  revokedProbes: Count,
  /** of those, accepted: 0 in every mode but `jwt` */
  revokedAccepted: Count,
})
export type FailoverModeOutcome = Static<typeof FailoverModeOutcome>

export const TopologyFailover = Type.Object({
  topology: Type.Union([Type.Literal('standalone'), Type.Literal('sentinel'), Type.Literal('cluster')]),
  /** what was killed and how the topology recovered */
  fault: Type.String(),
  /** from the kill until every slot (or the set) had a primary again */
  recoveryMs: Num,
  sessionsBefore: Count,
  sessionsOnKilledPrimary: Count,
  /** sessions made before the fault that `session` refused after the recovery */
  sessionsLost: Count,
  /** logouts sent during the run, and how many were acknowledged (204) */
  revocations: Type.Object({ attempted: Count, acknowledged: Count }),
  modes: Type.Record(Type.String(), FailoverModeOutcome),
  /** median µs of one revocation write without and with WAIT 1, measured side by side */
  waitCost: Type.Optional(Type.Object({ wait0Us: Num, wait1Us: Num, ratio: Num })),
})
export type TopologyFailover = Static<typeof TopologyFailover>

export const AlgorithmCost = Type.Object({
  /** µs of CPU per verification of a token never seen before (no cache can help) */
  coldVerifyUs: Num,
  /** µs per verification of a token verified before (fast-jwt's cache hit) */
  warmVerifyUs: Num,
  signUs: Num,
  /** raw node:crypto verify with a prepared KeyObject, the floor fast-jwt's cold path is held to */
  rawVerifyUs: Type.Optional(Num),
})
export type AlgorithmCost = Static<typeof AlgorithmCost>

export const NetworkRun = Type.Object({
  /** how the delay was made: the kernel (netem on a veth) or the userspace relay */
  mechanism: Type.String(),
  /** why the kernel could not do it, when the relay stood in */
  note: Type.Optional(Type.String()),
  replicas: Count,
  rateRps: Num,
  durationS: Num,
  delays: Type.Array(
    Type.Object({
      /** one-way delay added between the replicas and Redis/auth */
      delayMs: Num,
      /** a Redis PING round trip through that path, measured from the bench (median) */
      redisRoundTripMs: Num,
      modes: Type.Record(
        Type.String(),
        Type.Object({
          p50Ms: Measured('null when no request succeeded'),
          p95Ms: Measured('null when no request succeeded'),
          p99Ms: Measured('null when no request succeeded'),
          errors: Count,
        }),
        { propertyNames: ModeName },
      ),
    }),
  ),
})
export type NetworkRun = Static<typeof NetworkRun>

/**
 * What the tutorial code does after a logout and a "logout-all" (loadtest/src/peer-probe.ts): per
 * credential, the same windows as the revocation probe, timed from when the action returned.
 */
export const PeerProbe = Type.Object({
  /** the peer's replicas behind the gateway: a credential accepted on all of them was nowhere revoked */
  replicas: Count,
  trials: Type.Integer({ minimum: 1 }),
  windowMs: Num,
  /** after POST /textbook/logout: `textbook-session` and `textbook-jwt` of the logged-out login */
  logout: Type.Record(Type.String(), RevocationSummary),
  /**
   * Two textbook logins of one user, then authlab's logout-all for that user and the textbook logout
   * of the first login: `other-session`, `other-jwt`, `logged-out-session`, `logged-out-jwt`, and
   * authlab's own `session` and `jwt-denylist` for the same user, in the same trial, for contrast
   */
  logoutAll: Type.Record(Type.String(), RevocationSummary),
})
export type PeerProbe = Static<typeof PeerProbe>

const Capacity = Type.Object({
  predictedMaxRps: Type.Record(Type.String(), Num),
  limitedBy: Type.Record(Type.String(), Type.String()),
})

export const Results = Type.Object(
  {
    machine: Type.Object(
      {
        cpus: Type.Integer({ minimum: 1 }),
        cpuModel: Type.Optional(Type.String()),
        node: Type.String(),
        redis: Type.Optional(Type.String()),
        nginx: Type.Optional(Type.String()),
        postgres: Type.Optional(Type.String()),
        vegeta: Type.Optional(Type.String()),
        platform: Type.String(),
        pinning: Type.String(),
      },
      { additionalProperties: false },
    ),
    /** the commit the bench ran (`git describe --always --dirty`), when it ran in a checkout */
    commit: Type.Optional(Type.String()),
    startedAt: Type.String({ format: 'date-time' }),
    finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
    profile: Type.Union([Type.Literal('smoke'), Type.Literal('quick'), Type.Literal('full')]),
    gateway: Type.String(),
    /** the seed of the window order; the same seed replays the same order */
    seed: Type.Integer({ minimum: 0 }),
    settings: Type.Record(Type.String(), Type.Unknown()),
    skipped: Type.Array(Type.String()),
    runs: Type.Array(Run, { minItems: 1 }),
    revocation: Type.Record(Type.String(), RevocationSummary),
    /**
     * The same windows for a role change (an admin withdraws `admin` from a logged-in user): how
     * long after it returned each mode still granted `/admin`. Absent against a gateway.
     */
    permissionChange: Type.Optional(Type.Record(Type.String(), RevocationSummary)),
    /** the textbook peer after logout and logout-all; absent where the peer did not run */
    peerProbe: Type.Optional(PeerProbe),
    faults: Type.Record(Type.String(), Type.Record(Type.String(), FaultOutcome)),
    /** the primary killed under load in each Redis topology (`pnpm failover`, or the bench's --failover) */
    topologies: Type.Optional(Type.Array(TopologyFailover)),
    algorithms: Type.Optional(
      Type.Object({
        verify: Type.Record(Type.String(), AlgorithmCost),
        redisRoundTripUs: Type.Optional(Num),
      }),
    ),
    network: Type.Optional(NetworkRun),
    /**
     * phantom with the gateway's exchange cache off (PHANTOM_CACHE_TTL_MS=0), medians over the
     * profile's repetitions at the sweep's last replica count: what nginx and auth pay per request
     * when every request is exchanged (the sweep's phantom row has the default cache)
     */
    phantomUncached: Type.Optional(
      Type.Object(
        {
          replicas: Count,
          rps: Num,
          replicaCpuUsPerRequest: Measured(notMeasured),
          nginxCpuUsPerRequest: Measured(notMeasured),
          authCpuUsPerRequest: Measured(notMeasured),
          redisCpuUsPerRequest: Measured(notMeasured),
          redisCommandsPerRequest: Measured(notMeasured),
        },
        { additionalProperties: false },
      ),
    ),
    /** Redis memory per session and revocation, and the revocation set's growth (storage.ts) */
    storage: Type.Optional(StorageRun),
    /** what each credential weighs, and each mode's bytes per request and response at the gateway (size.ts) */
    size: Type.Optional(SizeRun),
    /** refresh cost at each access-token lifetime, the revocation window `jwt` buys with it (token-lifetime.ts) */
    tokenLifetime: Type.Optional(TokenLifetimeRun),
    capacityModel: Type.Object({
      assumptions: Type.Optional(Type.Array(Type.String())),
      /** each mode's marginal cost per request with its tier saturated: the planner's input */
      calibration: Type.Optional(Calibration),
      /** the model's predictions against runs made Redis- or replica-bound on purpose */
      checks: Type.Optional(Type.Array(ModelCheck)),
      validation: Type.Optional(
        Type.Object({
          mode: Type.String(),
          skipped: Type.Optional(Type.String()),
          replicas: Type.Optional(Count),
          redisCpuQuota: Type.Optional(Num),
          predictedRps: Type.Optional(Num),
          measuredRps: Type.Optional(Num),
          unconstrainedRps: Type.Optional(Num),
          /** Redis CPU µs per request in the check's own window, against the model's input */
          redisCpuUsPerRequest: Type.Optional(Num),
          modelRedisCpuUsPerRequest: Type.Optional(Num),
          /** the share of its quota Redis used in the window: near 1 when it was the bottleneck */
          quotaUsed: Type.Optional(Num),
        }),
      ),
      modes: Type.Record(Type.String(), Capacity),
    }),
  },
  {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://authlab.dev/results.schema.json',
    title: 'authlab bench results',
  },
)
export type Results = Static<typeof Results>
