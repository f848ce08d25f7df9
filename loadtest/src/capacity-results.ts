// The capacity model's part of results.json: what each mode costs per request when its tier is
// saturated (the calibration the planner reads), and the model's checks against measured runs.
import { type Static, Type } from 'typebox'

const Num = Type.Number({ minimum: 0 })
const Count = Type.Integer({ minimum: 1 })

/** One mode's marginal cost per request: idle CPU taken off, the tier held to a quota so it saturates. */
export const ModeCalibration = Type.Object(
  {
    rps: Num,
    /** replica CPU per request, every service's replicas together */
    replicaUsPerRequest: Num,
    nginxUsPerRequest: Num,
    /** auth CPU per request: introspect asks it every time, phantom on a cache miss */
    authUsPerRequest: Num,
    redisCommandsPerRequest: Num,
    /** Redis CPU per command the requests sent (0 commands: 0) */
    redisUsPerCommand: Num,
  },
  { additionalProperties: false },
)
export type ModeCalibration = Static<typeof ModeCalibration>

export const Calibration = Type.Object(
  {
    /** replicas per service that served the calibration windows */
    replicas: Count,
    /** the share of a core each of those replicas was held to */
    replicaQuota: Num,
    /** CPU spent with no load, per second: per replica process, per Redis node, auth */
    idle: Type.Object(
      { replicaUsPerS: Num, redisUsPerS: Num, authUsPerS: Num },
      { additionalProperties: false },
    ),
    modes: Type.Record(Type.String(), ModeCalibration),
    /** what one login costs (argon2 in auth, the rows in Postgres, the session in Redis) */
    login: Type.Optional(
      Type.Object(
        { logins: Count, authUs: Num, postgresUs: Num, redisUs: Num },
        { additionalProperties: false },
      ),
    ),
    /** Redis CPU per command with Redis saturated (held to a quota), on the standalone Redis */
    redis: Type.Optional(Type.Object({ usPerCommand: Num, quota: Num }, { additionalProperties: false })),
    /** Redis CPU per command on a Redis Cluster primary, measured on one (capacity-cluster.ts) */
    redisCluster: Type.Optional(
      Type.Object(
        { primaries: Count, usPerCommand: Num, idleUsPerSPerNode: Num },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
)
export type Calibration = Static<typeof Calibration>

/** One prediction made before the measurement, and the measurement. */
export const ModelCheck = Type.Object(
  {
    name: Type.Union([Type.Literal('replicas'), Type.Literal('redis'), Type.Literal('redis-cluster')]),
    mode: Type.String(),
    topology: Type.Union([Type.Literal('standalone'), Type.Literal('cluster')]),
    /** replicas per service serving the window */
    replicas: Count,
    /** what was held to what, in words (the bottleneck made on purpose) */
    limit: Type.String(),
    predictedRps: Num,
    measuredRps: Num,
    /** measured / predicted */
    ratio: Num,
    /** the share of its quota the limited tier used: near 1 when it was the bottleneck */
    quotaUsed: Num,
  },
  { additionalProperties: false },
)
export type ModelCheck = Static<typeof ModelCheck>
