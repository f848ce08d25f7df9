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
      head: ['mode', ...XS.map(String), 'limit at 64'],
      rows: modeled.map((m) => [
        `\`${m}\``,
        ...XS.map((k) => f0(model.modes[m]!.predictedMaxRps[String(k)])),
        model.modes[m]!.limitedBy['64'] ?? '',
      ]),
    },
    { kind: 'p', text: `Assumptions: ${(model.assumptions ?? []).join('; ')}.` },
    ...(v ? [{ kind: 'p' as const, text: validationText(v) }] : []),
  ]
}
