import type { Calibration, ModelCheck } from '../../capacity-results.ts'
import type { Results } from '../../results.ts'
import { lineChart } from '../charts/lines.ts'
import { f0, f1, f2, MODES, pct } from '../format.ts'
import { type Block, chart } from '../model.ts'

const XS = [1, 2, 4, 8, 16, 32, 64]
type Validation = NonNullable<Results['capacityModel']['validation']>

function marks(v: Validation | undefined) {
  if (v?.measuredRps === undefined || v.predictedRps === undefined || !v.replicas) return []
  return [
    {
      name: `validation predicted (${v.mode}, Redis at ${f2(v.redisCpuQuota)} core)`,
      x: v.replicas,
      y: v.predictedRps,
    },
    { name: `validation measured (${v.mode})`, x: v.replicas, y: v.measuredRps },
  ]
}

function validationText(v: Validation): string {
  if (v.measuredRps === undefined) return `Check against a Redis-bound run: skipped (${v.skipped}).`
  const input =
    v.redisCpuUsPerRequest !== undefined
      ? ` In that window Redis used ${pct(v.quotaUsed)} of its quota and spent ${f1(v.redisCpuUsPerRequest)} µs per request, against the ${f1(v.modelRedisCpuUsPerRequest)} µs the model took from the unconstrained windows (${f2(v.redisCpuUsPerRequest / (v.modelRedisCpuUsPerRequest ?? 1))}×).`
      : ''
  return `Check against a measured run where Redis is the bottleneck (\`${v.mode}\`, Redis limited to ${f2(v.redisCpuQuota)} of a core by a cgroup CPU quota): predicted ${f0(v.predictedRps)} req/s, measured ${f0(v.measuredRps)} req/s (${f2((v.measuredRps ?? 0) / (v.predictedRps ?? 1))}× the prediction).${input}`
}

export function capacity(r: Results): Block[] {
  const model = r.capacityModel
  const modeled = MODES.filter((m) => model.modes[m])
  if (modeled.length === 0) return []
  const v = model.validation
  return [
    { kind: 'h2', text: 'Capacity model: predicted max throughput vs replicas' },
    ...chart(
      'capacity-model',
      'Capacity model: predicted max throughput',
      "Where each mode stops scaling when every replica has a core of its own: the modes that ask Redis on every request flatten where one Redis saturates; the diamonds are the model's check against a measured run.",
      lineChart(
        'replicas per service (one core each)',
        'req/s',
        XS,
        modeled.map((m) => ({ name: m, values: XS.map((x) => model.modes[m]!.predictedMaxRps[String(x)]) })),
        marks(v),
      ),
    ),
    {
      kind: 'table',
      head: ['mode (columns: replicas per service)', ...XS.map(String), 'limit at 64'],
      rows: modeled.map((m) => [
        `\`${m}\``,
        ...XS.map((k) => f0(model.modes[m]!.predictedMaxRps[String(k)])),
        model.modes[m]!.limitedBy['64'] ?? '',
      ]),
    },
    { kind: 'p', text: `Assumptions: ${(model.assumptions ?? []).join('; ')}.` },
    ...(v ? [{ kind: 'p' as const, text: validationText(v) }] : []),
    ...calibrationBlocks(model.calibration),
    ...checkBlocks(model.checks),
  ]
}

/** The model's input: each mode's marginal cost with its tier saturated (what `pnpm plan` reads). */
function calibrationBlocks(cal: Calibration | undefined): Block[] {
  if (!cal) return []
  const cluster = cal.redisCluster
  return [
    {
      kind: 'p',
      text:
        `The model's input, the calibration: each mode saturating ${cal.replicas} replica per service, each held to ${f2(cal.replicaQuota)} of a core by a cgroup quota ` +
        `(a replica saturating a core of its own, not processes sharing the bench's cores), median over the repetitions, with every tier's idle CPU taken off ` +
        `(idle: ${f0(cal.idle.replicaUsPerS)} µs/s per replica, ${f0(cal.idle.redisUsPerS)} µs/s per Redis node, ${f0(cal.idle.authUsPerS)} µs/s in auth).` +
        (cal.login
          ? ` A login costs auth ${f0(cal.login.authUs)} µs (argon2), Postgres ${f0(cal.login.postgresUs)} µs and Redis ${f0(cal.login.redisUs)} µs.`
          : '') +
        (cal.redis
          ? ` Held to ${f2(cal.redis.quota)} of a core so that it saturates, the standalone Redis spends ${f1(cal.redis.usPerCommand)} µs per command (what the model uses; the table's last column is Redis at the calibration's lighter load).`
          : '') +
        (cluster
          ? ` On a Redis Cluster primary, saturated the same way, a command costs ${f1(cluster.usPerCommand)} µs (${cluster.primaries} primaries, ${f0(cluster.idleUsPerSPerNode)} µs/s idle each).`
          : ''),
    },
    {
      kind: 'table',
      head: [
        'mode',
        'replica µs / request',
        'nginx µs / request',
        'auth µs / request',
        'Redis commands / request',
        'Redis µs / command',
      ],
      rows: MODES.filter((m) => cal.modes[m]).map((m) => {
        const c = cal.modes[m]!
        return [
          `\`${m}\``,
          f1(c.replicaUsPerRequest),
          f1(c.nginxUsPerRequest),
          f1(c.authUsPerRequest),
          f2(c.redisCommandsPerRequest),
          f1(c.redisUsPerCommand),
        ]
      }),
    },
  ]
}

function checkBlocks(checks: readonly ModelCheck[] | undefined): Block[] {
  if (!checks?.length) return []
  return [
    {
      kind: 'p',
      text: 'The model checked: each prediction made from the calibration before the run it predicts, where one tier was made the bottleneck on purpose (the limited tier used its whole quota when the last column is near 100 %).',
    },
    {
      kind: 'table',
      head: [
        'check',
        'mode',
        'Redis',
        'replicas per service',
        'held',
        'predicted req/s',
        'measured req/s',
        'measured ÷ predicted',
        'quota used',
      ],
      rows: checks.map((c) => [
        c.name,
        `\`${c.mode}\``,
        c.topology,
        String(c.replicas),
        c.limit,
        f0(c.predictedRps),
        f0(c.measuredRps),
        `${f2(c.ratio)}×`,
        pct(c.quotaUsed),
      ]),
    },
  ]
}
