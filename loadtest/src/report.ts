import { MODES } from '../lib/scenarios.js'
import type { Results, Run } from './results.ts'

const f0 = (n: number | undefined) =>
  n === undefined || Number.isNaN(n) ? '–' : Math.round(n).toLocaleString('en-US')
const f1 = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(1))
const f2 = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(2))

function table(head: string[], rows: (string | number)[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n')
}

const total = (m: Run['modes'][string]) =>
  m.replicaCpuUsPerRequest + m.nginxCpuUsPerRequest + m.redisCpuUsPerRequest + m.authCpuUsPerRequest

/** The run the report leads with: most replicas, warm tokens. */
export function headlineRun(r: Results, profile: 'warm' | 'cold' = 'warm'): Run | undefined {
  const runs = r.runs.filter((x) => x.tokenProfile === profile)
  return runs.sort((a, b) => b.replicas - a.replicas)[0] ?? r.runs[0]
}

export function costTable(run: Run): string {
  const base = run.modes.none
  return table(
    [
      'mode',
      'replica CPU µs',
      'nginx CPU µs',
      'Redis CPU µs',
      'auth CPU µs',
      'total µs',
      'vs none',
      'Redis cmds/req',
      'rps',
    ],
    MODES.filter((m) => run.modes[m]).map((mode) => {
      const m = run.modes[mode]!
      return [
        `\`${mode}\``,
        f1(m.replicaCpuUsPerRequest),
        f1(m.nginxCpuUsPerRequest),
        f1(m.redisCpuUsPerRequest),
        f1(m.authCpuUsPerRequest),
        f1(total(m)),
        base && total(base) > 0 && !Number.isNaN(total(m)) ? `${f2(total(m) / total(base))}×` : '–',
        f2(m.redisCommandsPerRequest),
        f0(m.rps),
      ]
    }),
  )
}

/** Plain statements derived from the figures, not written in advance. */
export function findings(r: Results): string[] {
  const out: string[] = []
  const warm = headlineRun(r, 'warm')
  const cold = r.runs.find((x) => x.tokenProfile === 'cold' && x.replicas === warm?.replicas)
  const stateful = ['session', 'session-cached', 'jwt-denylist', 'jwt-pushed', 'introspect', 'jwt']
  for (const [label, run] of [
    ['warm tokens', warm],
    ['cold tokens', cold],
  ] as const) {
    if (!run) continue
    const ranked = stateful
      .filter((m) => run.modes[m])
      .sort((a, b) => total(run.modes[a]!) - total(run.modes[b]!))
    if (ranked.length === 0) continue
    out.push(
      `With ${label} at ${run.replicas} replica(s), the cheapest mode in total CPU per request is \`${ranked[0]}\` ` +
        `(${f1(total(run.modes[ranked[0]!]!))} µs), the dearest \`${ranked.at(-1)}\` (${f1(total(run.modes[ranked.at(-1)!]!))} µs).`,
    )
  }
  if (warm && cold) {
    for (const mode of ['jwt', 'session-cached']) {
      const w = warm.modes[mode]
      const c = cold.modes[mode]
      if (w && c) {
        out.push(
          `\`${mode}\` replica CPU per request: ${f1(w.replicaCpuUsPerRequest)} µs warm vs ${f1(c.replicaCpuUsPerRequest)} µs cold ` +
            `(${f2(c.replicaCpuUsPerRequest / Math.max(w.replicaCpuUsPerRequest, 1e-9))}×): its cache only helps credentials it saw recently.`,
        )
      }
    }
  }
  const alg = r.algorithms
  if (alg) {
    const entries = Object.entries(alg.verify).sort((a, b) => a[1].coldVerifyUs - b[1].coldVerifyUs)
    const [fast, slow] = [entries[0], entries.at(-1)]
    if (fast && slow) {
      out.push(
        `Cold verification: ${entries.map(([a, c]) => `${a} ${f1(c.coldVerifyUs)} µs`).join(', ')} of CPU per token; ` +
          `${slow[0]} costs ${f1(slow[1].coldVerifyUs / fast[1].coldVerifyUs)}× ${fast[0]}.` +
          (alg.redisRoundTripUs
            ? ` A Redis round trip takes ${f1(alg.redisRoundTripUs)} µs of latency from a client (mostly waiting, not CPU).`
            : ''),
      )
    }
  }
  const rev = r.revocation
  const eventual = (mode: string) =>
    rev[mode]?.acceptedAfterRevoke
      ? `\`${mode}\` accepted ${rev[mode]!.acceptedAfterRevoke} requests for at most ${f0(rev[mode]!.windowMsMax)} ms`
      : `\`${mode}\` accepted nothing either`
  if (Object.keys(rev).length > 0) {
    const immediate = ['session', 'jwt-denylist', 'introspect'].filter(
      (m) => rev[m]?.acceptedAfterRevoke === 0,
    )
    out.push(
      `After logout-all returned, ${immediate.map((m) => `\`${m}\``).join(', ')} accepted nothing on any replica; ` +
        `${eventual('jwt-pushed')}; ${eventual('session-cached')}; ` +
        `\`jwt\` kept accepting until exp (${rev.jwt?.acceptedAfterRevoke ?? 0} requests in the probe window).`,
    )
  }
  return out
}

function sweepTable(r: Results, profile: 'warm' | 'cold'): string {
  const runs = r.runs.filter((x) => x.tokenProfile === profile).sort((a, b) => a.replicas - b.replicas)
  if (runs.length === 0) return ''
  return table(
    ['mode', ...runs.map((x) => `rps @${x.replicas}`), ...runs.map((x) => `p99 ms @${x.replicas}`), 'spread'],
    MODES.map((mode) => [
      `\`${mode}\``,
      ...runs.map((x) => f0(x.modes[mode]?.rps)),
      ...runs.map((x) => f2(x.modes[mode]?.p99Ms)),
      Number(r.settings.repetitions) > 1
        ? runs.map((x) => `${f0((x.modes[mode]?.rpsSpread ?? 0) * 100)}%`).join(' / ')
        : '–',
    ]),
  )
}

export function renderMarkdown(r: Results): string {
  const head = headlineRun(r)
  const parts: string[] = []
  parts.push(`# authlab bench — ${r.startedAt} (${r.profile})`)
  parts.push(
    `Machine: ${r.machine.cpus} CPUs (${r.machine.cpuModel ?? '?'}), Node ${r.machine.node}, Redis ${r.machine.redis ?? '?'}, ` +
      `nginx ${r.machine.nginx ?? '?'}. Gateway ${r.gateway}. ${r.machine.pinning ?? ''}`,
  )
  if (r.skipped.length) parts.push(`Skipped: ${r.skipped.join('; ')}.`)
  if (head) {
    parts.push(
      `## Cost per request, by tier (${head.replicas} replicas, ${head.tokenProfile} tokens, ${head.algorithm})`,
    )
    parts.push(
      'CPU time of each tier over a measured window divided by the requests served, median of the repetitions. ' +
        'On a small machine the generator or nginx saturates first, so throughput alone reads alike for every mode; ' +
        'these per-request costs are what differs.',
    )
    parts.push(costTable(head))
  }
  const warmRuns = r.runs.filter((x) => x.tokenProfile === 'warm').sort((a, b) => a.replicas - b.replicas)
  if (warmRuns.length > 1) {
    parts.push('### Total CPU µs per request vs replicas (warm tokens)')
    parts.push(
      "All replicas share the servers' core here, so more replicas add scheduling and idle work per request; " +
        'read the spread column before reading differences between modes.',
    )
    parts.push(
      table(
        ['mode', ...warmRuns.map((x) => `@${x.replicas}`)],
        MODES.map((mode) => [
          `\`${mode}\``,
          ...warmRuns.map((x) => (x.modes[mode] ? f1(total(x.modes[mode]!)) : '–')),
        ]),
      ),
    )
  }
  const cold = headlineRun(r, 'cold')
  if (cold && cold !== head && cold.tokenProfile === 'cold') {
    parts.push(`### Cold tokens (${cold.replicas} replicas)`)
    parts.push(costTable(cold))
  }
  parts.push('## What the figures say')
  parts.push(
    findings(r)
      .map((x) => `- ${x}`)
      .join('\n'),
  )
  for (const profile of ['warm', 'cold'] as const) {
    const t = sweepTable(r, profile)
    if (t) {
      const rate = r.runs.find((x) => x.tokenProfile === profile)
      parts.push(
        `## Throughput (saturation) and p99 latency at a fixed ${f0(rate?.modes.none?.latencyRate)} req/s, vs replicas — ${profile} tokens`,
      )
      parts.push(`Saturation: ${rate?.generator}; latency: ${rate?.latencyGenerator}.`)
      parts.push(t)
    }
  }
  if (r.algorithms) {
    parts.push('## Signing algorithm: CPU per verification (fast-jwt, in process)')
    parts.push(
      table(
        ['algorithm', 'cold verify µs', 'warm (cached) verify µs', 'sign µs'],
        Object.entries(r.algorithms.verify).map(([a, c]) => [
          a,
          f1(c.coldVerifyUs),
          f2(c.warmVerifyUs),
          f1(c.signUs),
        ]),
      ),
    )
  }
  if (Object.keys(r.revocation).length) {
    parts.push('## Revocation window after logout-all')
    parts.push(
      table(
        [
          'mode',
          'window p50 ms',
          'p99 ms',
          'max ms',
          'accepted after revoke',
          'replicas seen',
          'replicas accepting after',
          'trials',
        ],
        Object.entries(r.revocation).map(([m, v]) => [
          `\`${m}\``,
          v.censored ? `≥ ${f0(v.windowMsP50)} (until exp)` : f0(v.windowMsP50),
          f0(v.windowMsP99),
          f0(v.windowMsMax),
          v.acceptedAfterRevoke,
          v.replicasSeen,
          v.replicasAcceptingAfterRevoke,
          v.trials,
        ]),
      ),
    )
  }
  if (Object.keys(r.faults).length) {
    parts.push('## Faults: share of requests answered 200 while it happened, and lost revocations')
    const scenarios = Object.keys(r.faults)
    parts.push(
      table(
        ['mode', ...scenarios],
        MODES.map((mode) => [
          `\`${mode}\``,
          ...scenarios.map((s) => {
            const o = r.faults[s]?.[mode]
            if (!o) return '–'
            const codes = Object.entries(o.statusCounts)
              .filter(([c]) => c !== '200')
              .map(([c, n]) => `${c}×${n}`)
              .join(' ')
            return `${f0((o.ok / Math.max(o.requests, 1)) * 100)}% ok ${codes}${o.revokedAccepted ? ` **${o.revokedAccepted} revoked accepted**` : ''}`
          }),
        ]),
      ),
    )
  }
  const model = r.capacityModel as Record<
    string,
    { predictedMaxRps?: Record<string, number>; limitedBy?: Record<string, string> }
  >
  const modeled = MODES.filter((m) => model[m]?.predictedMaxRps)
  if (modeled.length) {
    parts.push('## Capacity model: predicted max throughput vs replicas')
    parts.push(
      table(
        ['mode', '1', '2', '4', '8', '16', '32', '64', 'limit at 64'],
        modeled.map((m) => [
          `\`${m}\``,
          ...['1', '2', '4', '8', '16', '32', '64'].map((k) => f0(model[m]!.predictedMaxRps![k])),
          model[m]!.limitedBy?.['64'] ?? '',
        ]),
      ),
    )
    const assumptions = (r.capacityModel.assumptions as string[] | undefined) ?? []
    parts.push(`Assumptions: ${assumptions.join('; ')}.`)
    const v = r.capacityModel.validation as Record<string, unknown> | undefined
    if (v) {
      parts.push(
        v.measuredRps !== undefined
          ? `Check against a measured run where Redis is the bottleneck (\`${v.mode}\`, Redis limited to ${f2(Number(v.redisCpuQuota))} of a core by a cgroup CPU quota): predicted ${f0(Number(v.predictedRps))} req/s, measured ${f0(Number(v.measuredRps))} req/s (${f2(Number(v.measuredRps) / Number(v.predictedRps))}× the prediction).`
          : `Check against a Redis-bound run: skipped (${v.skipped}).`,
      )
    }
  }
  parts.push('## Method')
  parts.push(
    [
      `- Windows of ${r.settings.windowS} s after ${r.settings.warmupS} s of warm-up, ${r.settings.repetitions} repetition(s); modes interleaved within each repetition; medians reported, spread = (max − min) / median of saturation throughput.`,
      `- Token profiles: warm = ${r.settings.warmPool}; cold = ${r.settings.coldPool}. Per-replica caches in the bench cluster: fast-jwt ${r.settings.jwtVerifyCacheSize} tokens, session-cached ${r.settings.sessionCacheMaxEntries} sessions, so the cold pool misses them and the warm pool hits.`,
      `- Redis commands per request subtract the idle command rate measured beforehand (${f1(Number(r.settings.backgroundRedisCallsPerS))}/s: jwt-pushed heartbeats).`,
      '- Timings are ratios within this run on this machine; compare modes with each other, not with figures from elsewhere.',
    ].join('\n'),
  )
  return `${parts.join('\n\n')}\n`
}

// ---------- HTML: the same content, with inline SVG charts (no external assets) ----------

const COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1']
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function stackedBars(
  title: string,
  rows: { label: string; parts: { name: string; value: number }[] }[],
): string {
  const width = 720
  const rowH = 26
  const left = 130
  const max = Math.max(1e-9, ...rows.map((r) => r.parts.reduce((s, p) => s + p.value, 0)))
  const names = [...new Set(rows.flatMap((r) => r.parts.map((p) => p.name)))]
  const bars = rows
    .map((r, i) => {
      let x = left
      const rects = r.parts
        .map((p) => {
          const w = ((width - left - 60) * p.value) / max
          const rect = `<rect x="${x}" y="${i * rowH + 30}" width="${Math.max(0, w)}" height="${rowH - 6}" fill="${COLORS[names.indexOf(p.name) % COLORS.length]}"><title>${esc(`${r.label} ${p.name}: ${p.value.toFixed(2)}`)}</title></rect>`
          x += w
          return rect
        })
        .join('')
      const sum = r.parts.reduce((s, p) => s + p.value, 0)
      return `<text x="${left - 6}" y="${i * rowH + 47}" text-anchor="end">${esc(r.label)}</text>${rects}<text x="${x + 4}" y="${i * rowH + 47}">${sum.toFixed(1)}</text>`
    })
    .join('')
  const legend = names
    .map(
      (n, i) =>
        `<rect x="${left + i * 120}" y="8" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${left + i * 120 + 16}" y="19">${esc(n)}</text>`,
    )
    .join('')
  return `<figure><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${width} ${rows.length * rowH + 40}" width="${width}" font-size="12">${legend}${bars}</svg></figure>`
}

function lineChart(
  title: string,
  xs: number[],
  series: { name: string; values: (number | undefined)[] }[],
  unit: string,
): string {
  const width = 720
  const height = 280
  const pad = { l: 60, r: 150, t: 20, b: 30 }
  const max = Math.max(1e-9, ...series.flatMap((s) => s.values.filter((v): v is number => v !== undefined)))
  const x = (i: number) => pad.l + (xs.length === 1 ? 0.5 : i / (xs.length - 1)) * (width - pad.l - pad.r)
  const y = (v: number) => height - pad.b - (v / max) * (height - pad.t - pad.b)
  const lines = series
    .map((s, si) => {
      const pts = s.values.map((v, i) => (v === undefined ? null : `${x(i)},${y(v)}`)).filter(Boolean)
      const color = COLORS[si % COLORS.length]
      return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>${s.values
        .map((v, i) =>
          v === undefined
            ? ''
            : `<circle cx="${x(i)}" cy="${y(v)}" r="3" fill="${color}"><title>${esc(`${s.name} @${xs[i]}: ${v.toFixed(1)} ${unit}`)}</title></circle>`,
        )
        .join(
          '',
        )}<text x="${width - pad.r + 8}" y="${pad.t + si * 16 + 10}" fill="${color}">${esc(s.name)}</text>`
    })
    .join('')
  const axes = `<line x1="${pad.l}" y1="${height - pad.b}" x2="${width - pad.r}" y2="${height - pad.b}" stroke="#888"/><line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${height - pad.b}" stroke="#888"/>${xs
    .map((v, i) => `<text x="${x(i)}" y="${height - 10}" text-anchor="middle">${v}</text>`)
    .join(
      '',
    )}<text x="${pad.l - 6}" y="${pad.t + 4}" text-anchor="end">${Math.round(max)}</text><text x="${pad.l - 6}" y="${height - pad.b}" text-anchor="end">0</text>`
  return `<figure><figcaption>${esc(title)} (${esc(unit)})</figcaption><svg viewBox="0 0 ${width} ${height}" width="${width}" font-size="12">${axes}${lines}</svg></figure>`
}

function markdownTablesToHtml(md: string): string {
  const out: string[] = []
  let rows: string[][] = []
  const flush = () => {
    if (!rows.length) return
    const [head, , ...body] = rows
    out.push(
      `<table><thead><tr>${head!.map((c) => `<th>${inline(c)}</th>`).join('')}</tr></thead><tbody>${body
        .map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`)
        .join('')}</tbody></table>`,
    )
    rows = []
  }
  const inline = (s: string) =>
    esc(s)
      .replace(/`([^`]+)`/g, '<code>$1</code>')
      .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
  for (const line of md.split('\n')) {
    if (line.startsWith('|')) {
      rows.push(
        line
          .slice(1, -1)
          .split('|')
          .map((c) => c.trim()),
      )
      continue
    }
    flush()
    if (line.startsWith('### ')) out.push(`<h3>${inline(line.slice(4))}</h3>`)
    else if (line.startsWith('## ')) out.push(`<h2>${inline(line.slice(3))}</h2>`)
    else if (line.startsWith('# ')) out.push(`<h1>${inline(line.slice(2))}</h1>`)
    else if (line.startsWith('- ')) out.push(`<li>${inline(line.slice(2))}</li>`)
    else if (line.trim()) out.push(`<p>${inline(line)}</p>`)
  }
  flush()
  return out.join('\n')
}

export function renderHtml(r: Results): string {
  const charts: string[] = []
  const head = headlineRun(r)
  if (head) {
    charts.push(
      stackedBars(
        `CPU µs per request by tier — ${head.replicas} replicas, ${head.tokenProfile} tokens`,
        MODES.filter((m) => head.modes[m]).map((m) => ({
          label: m,
          parts: [
            { name: 'replicas', value: head.modes[m]!.replicaCpuUsPerRequest },
            { name: 'nginx', value: head.modes[m]!.nginxCpuUsPerRequest },
            { name: 'Redis', value: head.modes[m]!.redisCpuUsPerRequest },
            { name: 'auth', value: head.modes[m]!.authCpuUsPerRequest },
          ],
        })),
      ),
      stackedBars(
        'Redis commands per request',
        MODES.filter((m) => head.modes[m]).map((m) => ({
          label: m,
          parts: [{ name: 'commands', value: head.modes[m]!.redisCommandsPerRequest }],
        })),
      ),
    )
  }
  for (const profile of ['warm', 'cold'] as const) {
    const runs = r.runs.filter((x) => x.tokenProfile === profile).sort((a, b) => a.replicas - b.replicas)
    if (runs.length === 0) continue
    const xs = runs.map((x) => x.replicas)
    charts.push(
      lineChart(
        `Saturation throughput vs replicas — ${profile}`,
        xs,
        MODES.map((m) => ({ name: m, values: runs.map((x) => x.modes[m]?.rps) })),
        'req/s',
      ),
      lineChart(
        `p99 latency at a fixed rate vs replicas — ${profile}`,
        xs,
        MODES.map((m) => ({ name: m, values: runs.map((x) => x.modes[m]?.p99Ms) })),
        'ms',
      ),
    )
  }
  if (Object.keys(r.revocation).length) {
    charts.push(
      stackedBars(
        'Revocation window after logout-all, max over trials (ms; jwt = until exp, cut at the probe window)',
        Object.entries(r.revocation).map(([m, v]) => ({
          label: m,
          parts: [{ name: 'window max', value: v.windowMsMax }],
        })),
      ),
    )
  }
  for (const [scenario, byMode] of Object.entries(r.faults)) {
    charts.push(
      stackedBars(
        `Fault: ${scenario} — answers per mode while it happened (% of requests)`,
        MODES.filter((m) => byMode[m]).map((m) => {
          const o = byMode[m]!
          const share = (codes: (c: string) => boolean) =>
            (100 * Object.entries(o.statusCounts).reduce((n, [c, k]) => n + (codes(c) ? k : 0), 0)) /
            Math.max(o.requests, 1)
          return {
            label: m,
            parts: [
              { name: '200', value: share((c) => c === '200') },
              { name: '401', value: share((c) => c === '401') },
              { name: '503', value: share((c) => c === '503') },
              { name: 'other', value: share((c) => !['200', '401', '503'].includes(c)) },
            ],
          }
        }),
      ),
    )
  }
  const model = r.capacityModel as Record<string, { predictedMaxRps?: Record<string, number> }>
  const modeled = MODES.filter((m) => model[m]?.predictedMaxRps)
  if (modeled.length) {
    const xs = [1, 2, 4, 8, 16, 32, 64]
    charts.push(
      lineChart(
        'Capacity model: predicted max throughput',
        xs,
        modeled.map((m) => ({ name: m, values: xs.map((x) => model[m]!.predictedMaxRps![String(x)]) })),
        'req/s',
      ),
    )
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>authlab bench ${esc(r.startedAt)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:980px;color:#222}
table{border-collapse:collapse;margin:1rem 0;font-size:14px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}figure{margin:1.5rem 0}figcaption{font-weight:600;margin-bottom:.5rem}
code{background:#f3f3f3;padding:0 3px}
</style></head><body>
<section id="charts"><h2>Charts</h2>${charts.join('\n')}</section>
${markdownTablesToHtml(renderMarkdown(r))}
</body></html>
`
}
