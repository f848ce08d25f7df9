// The report as one document model (headings, paragraphs, lists, tables, charts) rendered twice:
// Markdown for the README and terminals, HTML with inline SVG charts. Neither is parsed back.
import { MODES } from '../lib/scenarios.js'
import type { Estimate, ModeRun, Results, Run, TopologyFailover } from './results.ts'

type Block =
  | { kind: 'h1' | 'h2' | 'h3'; text: string }
  | { kind: 'p'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; head: string[]; rows: string[][] }
  | { kind: 'chart'; svg: string }

const finite = (n: number | null | undefined): n is number => typeof n === 'number' && Number.isFinite(n)
const f0 = (n: number | null | undefined) => (finite(n) ? Math.round(n).toLocaleString('en-US') : '–')
const f1 = (n: number | null | undefined) => (finite(n) ? n.toFixed(1) : '–')
const f2 = (n: number | null | undefined) => (finite(n) ? n.toFixed(2) : '–')
const pct = (n: number | null | undefined) => (finite(n) ? `${(100 * n).toFixed(1)} %` : '–')
const interval = (e: Estimate | undefined, fmt = f2) =>
  e && finite(e.median) ? `${fmt(e.median)} [${fmt(e.lo)}–${fmt(e.hi)}]` : '–'

const total = (m: ModeRun) =>
  m.replicaCpuUsPerRequest + m.nginxCpuUsPerRequest + m.redisCpuUsPerRequest + m.authCpuUsPerRequest

/** The run the report leads with: most replicas, warm tokens. */
export function headlineRun(r: Results, profile: 'warm' | 'cold' = 'warm'): Run | undefined {
  const runs = r.runs.filter((x) => x.tokenProfile === profile)
  return [...runs].sort((a, b) => b.replicas - a.replicas)[0] ?? (profile === 'warm' ? r.runs[0] : undefined)
}

/** "1.23× [1.10–1.31]", or "within noise" when the A/A control cannot tell it from 1. */
function vsNone(m: ModeRun, key: 'totalCpu' | 'replicaCpu' | 'rps'): string {
  const e = m.vsNone?.[key]
  if (!e || !finite(e.median)) return '–'
  const text = `${f2(e.median)}× [${f2(e.lo)}–${f2(e.hi)}]`
  return m.withinNoise?.[key] ? `${text} (within noise)` : text
}

/** Replica CPU per request over `none`'s measured in the same windows, "1.23× [1.10–1.31]". */
function sameWindow(m: ModeRun): string {
  const e = m.sameWindow?.replicaCpu
  if (!e || !finite(e.median)) return '–'
  const text = `${f2(e.median)}× [${f2(e.lo)}–${f2(e.hi)}]`
  return m.sameWindow?.withinNoise ? `${text} (within noise)` : text
}

/**
 * Server-core capacity relative to `none` at the same-window load: the inverse of the
 * same-window server-core CPU per request, "0.81× [0.79–0.83]".
 */
function coreThroughput(m: ModeRun): string {
  const e = m.sameWindow?.serverCpu
  if (!e || !finite(e.median)) return '–'
  const text = `${f2(1 / e.median)}× [${f2(1 / e.hi)}–${f2(1 / e.lo)}]`
  return m.sameWindow?.serverWithinNoise ? `${text} (within noise)` : text
}

/** Event-loop wake-ups per request, the mode's replicas against `none`'s in the same windows. */
function wakeups(m: ModeRun): string {
  const w = m.sameWindow?.wakeups
  return w && finite(w.mode.median) ? `${f2(w.mode.median)} / ${f2(w.none.median)}` : '–'
}

function costTableBlock(run: Run): Block {
  const paired = run.sameWindow !== undefined
  return {
    kind: 'table',
    head: [
      'mode',
      ...(paired ? ['replica CPU vs none, same window (95 % CI)'] : []),
      'replica CPU µs',
      'nginx CPU µs',
      'Redis CPU µs',
      'auth CPU µs',
      'total µs',
      'total vs none (95 % CI)',
      'Redis cmds/req',
      'rps',
      'rps vs none (95 % CI)',
    ],
    rows: MODES.filter((m) => run.modes[m]).map((mode) => {
      const m = run.modes[mode]!
      return [
        `\`${mode}\``,
        ...(paired ? [mode === 'none' ? '1.00×' : sameWindow(m)] : []),
        f1(m.replicaCpuUsPerRequest),
        f1(m.nginxCpuUsPerRequest),
        f1(m.redisCpuUsPerRequest),
        f1(m.authCpuUsPerRequest),
        f1(total(m)),
        mode === 'none' ? '1.00×' : vsNone(m, 'totalCpu'),
        f2(m.redisCommandsPerRequest),
        f0(m.rps),
        mode === 'none' ? '1.00×' : vsNone(m, 'rps'),
      ]
    }),
  }
}

export function costTable(run: Run): string {
  return markdown([costTableBlock(run)])
}

function noiseLine(run: Run): string | undefined {
  if (!run.aa || !run.noiseFloor) return undefined
  const paired = run.sameWindow
    ? `Same-window A/A control (\`none\` on both services, ${run.sameWindow.repetitions} repetitions of ${run.sameWindow.windowS} s): ` +
      `replica CPU ratio ${interval(run.sameWindow.aa)}, so same-window ratios within ±${pct(run.sameWindow.noiseFloor)} of 1 are marked "within noise". `
    : ''
  return (
    paired +
    `Sequential A/A control (\`none\` measured twice per repetition at shuffled positions, ${run.order?.length ?? 0} repetitions; the absolute figures and throughput come from these windows): ` +
    `throughput ratio ${interval(run.aa.rps)}, total CPU ratio ${interval(run.aa.totalCpu)} (median [95 % CI]); ` +
    `differences smaller than ±${pct(run.noiseFloor.totalCpu)} in CPU or ±${pct(run.noiseFloor.rps)} in throughput are marked "within noise".`
  )
}

/** The five lines a reader takes away, derived from the figures. */
export function summary(r: Results): string[] {
  const out: string[] = []
  const warm = headlineRun(r, 'warm')
  const cold = r.runs.find((x) => x.tokenProfile === 'cold' && x.replicas === warm?.replicas)
  if (warm?.sameWindow) {
    out.push(
      `Noise floor at ${warm.replicas} replicas (warm): measured in the same window, \`none\` against itself reads ${interval(warm.sameWindow.aa)} in replica CPU per request (±${pct(warm.sameWindow.noiseFloor)}); ` +
        `in sequential windows ${interval(warm.aa?.totalCpu)} (±${pct(warm.noiseFloor?.totalCpu)}), because this VM's core changes speed between windows.`,
    )
    const ranked = MODES.filter((m) => m !== 'none' && warm.modes[m]?.sameWindow)
    const throughput = ranked.filter((m) => warm.modes[m]!.sameWindow?.serverCpu)
    out.push(
      `Replica CPU per request vs \`none\`, same window (warm, ${warm.replicas} replicas): ${ranked.map((m) => `\`${m}\` ${sameWindow(warm.modes[m]!)}`).join(', ')}.` +
        (throughput.length
          ? ` Server-core capacity vs \`none\` at that shared load (the inverse of the core's CPU per request, Redis, auth and nginx included; a mode alone on the core reads lower, see the method): ${throughput.map((m) => `\`${m}\` ${coreThroughput(warm.modes[m]!)}`).join(', ')}.`
          : ''),
    )
  } else if (warm?.noiseFloor && warm.aa)
    out.push(
      `Noise floor at ${warm.replicas} replicas (warm): the A/A control reads ${interval(warm.aa.totalCpu)} in CPU per request, ` +
        `so differences under ±${pct(warm.noiseFloor.totalCpu)} are not differences.`,
    )
  for (const [label, run] of [
    ['warm', warm],
    ['cold', cold],
  ] as const) {
    if (!run) continue
    const ranked = MODES.filter((m) => m !== 'none' && run.modes[m] && finite(total(run.modes[m]!))).sort(
      (a, b) => total(run.modes[a]!) - total(run.modes[b]!),
    )
    if (ranked.length < 2) continue
    const [cheap, dear] = [ranked[0]!, ranked.at(-1)!]
    out.push(
      `${label === 'warm' ? 'Warm' : 'Cold'} tokens, ${run.replicas} replica(s): cheapest \`${cheap}\` at ${vsNone(run.modes[cheap]!, 'totalCpu')} of \`none\`'s CPU per request, ` +
        `dearest \`${dear}\` at ${vsNone(run.modes[dear]!, 'totalCpu')}.`,
    )
  }
  const rev = r.revocation
  if (Object.keys(rev).length) {
    const immediate = ['session', 'jwt-denylist', 'introspect'].filter(
      (m) => rev[m]?.acceptedAfterRevoke === 0,
    )
    const eventual = ['jwt-pushed', 'session-cached']
      .filter((m) => rev[m])
      .map((m) => `\`${m}\` ${f0(rev[m]!.windowMsMax)} ms at most`)
    out.push(
      `Revocation: ${immediate.map((m) => `\`${m}\``).join(', ')} refused at once on every replica; ${eventual.join(', ')}; \`jwt\` until exp.`,
    )
  }
  const faults = Object.values(r.faults).flatMap((byMode) => Object.values(byMode))
  if (faults.length)
    out.push(
      `Faults (${Object.keys(r.faults).join(', ')}): ${faults.reduce((n, f) => n + f.revokedAccepted, 0)} revoked credentials accepted afterwards, in every mode.`,
    )
  if (r.topologies?.length) {
    const accepted = r.topologies.reduce(
      (n, t) =>
        n + Object.entries(t.modes).reduce((k, [m, x]) => k + (m === 'jwt' ? 0 : x.revokedAccepted), 0),
      0,
    )
    const lost = r.topologies.reduce((n, t) => n + t.sessionsLost, 0)
    out.push(
      `Failover (${r.topologies.map((t) => t.topology).join(', ')}): ${accepted} revoked credentials accepted in the modes that must refuse them, ${lost} sessions lost.`,
    )
  }
  return out
}

/** Plain statements derived from the figures, beyond the summary. */
export function findings(r: Results): string[] {
  const out: string[] = []
  const warm = headlineRun(r, 'warm')
  const cold = r.runs.find((x) => x.tokenProfile === 'cold' && x.replicas === warm?.replicas)
  if (warm && cold) {
    for (const mode of ['jwt', 'session-cached']) {
      const w = warm.modes[mode]
      const c = cold.modes[mode]
      if (w && c && finite(w.replicaCpuUsPerRequest) && finite(c.replicaCpuUsPerRequest))
        out.push(
          `\`${mode}\` replica CPU per request: ${f1(w.replicaCpuUsPerRequest)} µs warm vs ${f1(c.replicaCpuUsPerRequest)} µs cold ` +
            `(${f2(c.replicaCpuUsPerRequest / Math.max(w.replicaCpuUsPerRequest, 1e-9))}×): its cache only helps credentials it saw recently.`,
        )
    }
  }
  const alg = r.algorithms
  if (alg) {
    const entries = Object.entries(alg.verify).sort((a, b) => a[1].coldVerifyUs - b[1].coldVerifyUs)
    const [fast, slow] = [entries[0], entries.at(-1)]
    if (fast && slow)
      out.push(
        `Cold verification: ${entries.map(([a, c]) => `${a} ${f1(c.coldVerifyUs)} µs`).join(', ')} of CPU per token; ` +
          `${slow[0]} costs ${f1(slow[1].coldVerifyUs / fast[1].coldVerifyUs)}× ${fast[0]}.` +
          (alg.redisRoundTripUs
            ? ` A Redis round trip takes ${f1(alg.redisRoundTripUs)} µs of latency from a client (mostly waiting, not CPU).`
            : ''),
      )
    const overhead = entries
      .filter(([, c]) => finite(c.rawVerifyUs))
      .map(([a, c]) => `${a} ${f2(c.coldVerifyUs / c.rawVerifyUs!)}×`)
    if (overhead.length)
      out.push(
        `fast-jwt's cold verification against raw \`node:crypto\` \`verify\` with a prepared KeyObject: ${overhead.join(', ')}.`,
      )
  }
  return out
}

function sweepTable(r: Results, profile: 'warm' | 'cold'): Block | undefined {
  const runs = r.runs.filter((x) => x.tokenProfile === profile).sort((a, b) => a.replicas - b.replicas)
  if (runs.length === 0) return undefined
  return {
    kind: 'table',
    head: ['mode', ...runs.map((x) => `rps @${x.replicas}`), ...runs.map((x) => `p99 ms @${x.replicas}`)],
    rows: MODES.map((mode) => [
      `\`${mode}\``,
      ...runs.map((x) => interval(x.modes[mode]?.rpsInterval, f0)),
      ...runs.map((x) => f2(x.modes[mode]?.p99Ms)),
    ]),
  }
}

// ---------- charts: inline SVG, no external assets ----------

const COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#9c755f']
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Horizontal stacked bars; `axis` names the quantity and unit under the bars. */
function stackedBars(
  title: string,
  axis: string,
  rows: { label: string; parts: { name: string; value: number }[]; note?: string }[],
  format: (n: number) => string = (n) => n.toFixed(1),
): string | undefined {
  const clean = rows.map((r) => ({ ...r, parts: r.parts.filter((p) => finite(p.value) && p.value > 0) }))
  const sums = clean.map((r) => r.parts.reduce((s, p) => s + p.value, 0))
  const max = Math.max(0, ...sums)
  if (max === 0) return undefined
  const width = 760
  const rowH = 26
  const left = 130
  const right = 110
  const top = 30
  const plotW = width - left - right
  const names = [...new Set(clean.flatMap((r) => r.parts.map((p) => p.name)))]
  const bars = clean
    .map((r, i) => {
      let x = left
      const rects = r.parts
        .map((p) => {
          const w = (plotW * p.value) / max
          const rect = `<rect x="${x}" y="${i * rowH + top}" width="${w}" height="${rowH - 6}" fill="${COLORS[names.indexOf(p.name) % COLORS.length]}"><title>${esc(`${r.label} ${p.name}: ${format(p.value)}`)}</title></rect>`
          x += w
          return rect
        })
        .join('')
      return `<text x="${left - 6}" y="${i * rowH + top + 17}" text-anchor="end">${esc(r.label)}</text>${rects}<text x="${x + 4}" y="${i * rowH + top + 17}">${esc(r.note ?? format(sums[i]!))}</text>`
    })
    .join('')
  const axisY = clean.length * rowH + top + 4
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (t) =>
        `<line x1="${left + t * plotW}" y1="${axisY}" x2="${left + t * plotW}" y2="${axisY + 4}" stroke="#888"/><text x="${left + t * plotW}" y="${axisY + 16}" text-anchor="middle">${esc(format(t * max))}</text>`,
    )
    .join('')
  const legend =
    names.length > 1
      ? names
          .map(
            (n, i) =>
              `<rect x="${left + i * 120}" y="8" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${left + i * 120 + 16}" y="19">${esc(n)}</text>`,
          )
          .join('')
      : ''
  const height = axisY + 40
  return `<figure><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${width} ${height}" width="${width}" font-size="12">${legend}${bars}<line x1="${left}" y1="${axisY}" x2="${left + plotW}" y2="${axisY}" stroke="#888"/>${ticks}<text x="${left + plotW / 2}" y="${height - 4}" text-anchor="middle">${esc(axis)}</text></svg></figure>`
}

/** Lines over x; log scale when the largest value is over 20× the smallest (one mode would flatten the rest). */
function lineChart(
  title: string,
  xAxis: string,
  yAxis: string,
  xs: number[],
  series: { name: string; values: (number | null | undefined)[] }[],
  points: { name: string; x: number; y: number }[] = [],
): string | undefined {
  const live = series.filter((s) => s.values.some((v) => finite(v) && v > 0))
  const all = [
    ...live.flatMap((s) => s.values.filter((v): v is number => finite(v) && v > 0)),
    ...points.map((p) => p.y),
  ]
  if (all.length === 0) return undefined
  const width = 760
  const height = 300
  const pad = { l: 70, r: 170, t: 20, b: 50 }
  const [lo, hi] = [Math.min(...all), Math.max(...all)]
  const log = hi / lo > 20
  const yMin = log ? 10 ** Math.floor(Math.log10(lo)) : 0
  const yMax = log ? 10 ** Math.ceil(Math.log10(hi)) : hi * 1.1
  const scale = (v: number) =>
    log ? (Math.log10(v) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin)) : v / yMax
  const xPos = (x: number) => {
    const i = xs.indexOf(x)
    return pad.l + (xs.length === 1 ? 0.5 : i / (xs.length - 1)) * (width - pad.l - pad.r)
  }
  const y = (v: number) => height - pad.b - scale(v) * (height - pad.t - pad.b)
  const yTicks = log
    ? Array.from({ length: Math.round(Math.log10(yMax / yMin)) + 1 }, (_, i) => yMin * 10 ** i)
    : [0, 0.25, 0.5, 0.75, 1].map((t) => t * yMax)
  const grid = yTicks
    .map(
      (v) =>
        `<line x1="${pad.l}" y1="${y(Math.max(v, yMin || v))}" x2="${width - pad.r}" y2="${y(Math.max(v, yMin || v))}" stroke="#eee"/><text x="${pad.l - 6}" y="${y(Math.max(v, yMin || v)) + 4}" text-anchor="end">${esc(f0(v))}</text>`,
    )
    .join('')
  const lines = live
    .map((s, si) => {
      const color = COLORS[si % COLORS.length]
      const pts = s.values
        .map((v, i) => (finite(v) && v > 0 ? `${xPos(xs[i]!)},${y(v)}` : null))
        .filter(Boolean)
      const dots = s.values
        .map((v, i) =>
          finite(v) && v > 0
            ? `<circle cx="${xPos(xs[i]!)}" cy="${y(v)}" r="3" fill="${color}"><title>${esc(`${s.name} @${xs[i]}: ${f1(v)} ${yAxis}`)}</title></circle>`
            : '',
        )
        .join('')
      return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>${dots}<text x="${width - pad.r + 8}" y="${pad.t + si * 16 + 10}" fill="${color}">${esc(s.name)}</text>`
    })
    .join('')
  const marks = points
    .map(
      (p, i) =>
        `<path d="M${xPos(p.x) - 6},${y(p.y)} l6,-6 l6,6 l-6,6 z" fill="none" stroke="#000" stroke-width="1.5"><title>${esc(`${p.name}: ${f0(p.y)}`)}</title></path><text x="${width - pad.r + 8}" y="${pad.t + (live.length + i) * 16 + 10}">◇ ${esc(p.name)}</text>`,
    )
    .join('')
  const axes = `<line x1="${pad.l}" y1="${height - pad.b}" x2="${width - pad.r}" y2="${height - pad.b}" stroke="#888"/><line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${height - pad.b}" stroke="#888"/>${xs
    .map((v) => `<text x="${xPos(v)}" y="${height - pad.b + 16}" text-anchor="middle">${v}</text>`)
    .join(
      '',
    )}<text x="${(pad.l + width - pad.r) / 2}" y="${height - 8}" text-anchor="middle">${esc(xAxis)}</text><text transform="translate(16 ${(pad.t + height - pad.b) / 2}) rotate(-90)" text-anchor="middle">${esc(`${yAxis}${log ? ' (log scale)' : ''}`)}</text>`
  return `<figure><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${width} ${height}" width="${width}" font-size="12">${grid}${axes}${lines}${marks}</svg></figure>`
}

function chart(svg: string | undefined): Block[] {
  return svg ? [{ kind: 'chart', svg }] : []
}

// ---------- the document ----------

export function reportBlocks(r: Results): Block[] {
  const out: Block[] = []
  const head = headlineRun(r)
  out.push({
    kind: 'h1',
    text: `authlab bench: what each auth mode costs (${r.profile} profile, ${r.startedAt})`,
  })
  out.push({
    kind: 'p',
    text:
      `Machine: ${r.machine.cpus} CPUs (${r.machine.cpuModel ?? '?'}), ${r.machine.platform}, Node ${r.machine.node}, Redis ${r.machine.redis ?? '?'}, ` +
      `nginx ${r.machine.nginx ?? '?'}, Postgres ${r.machine.postgres ?? '?'}. Gateway: ${r.gateway}. ${r.machine.pinning} Seed ${r.seed}.`,
  })
  const lines = summary(r)
  if (lines.length) out.push({ kind: 'h2', text: 'Summary' }, { kind: 'list', items: lines })
  if (r.skipped.length) out.push({ kind: 'p', text: `Skipped: ${r.skipped.join('; ')}.` })

  if (head) {
    out.push({
      kind: 'h2',
      text: `Cost per request, by tier (${head.replicas} replicas, ${head.tokenProfile} tokens, ${head.algorithm})`,
    })
    out.push(
      ...chart(
        stackedBars(
          `CPU per request by tier — ${head.replicas} replicas, ${head.tokenProfile} tokens`,
          'CPU µs per request (median of the repetitions)',
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
      ),
    )
    const noise = noiseLine(head)
    if (noise) out.push({ kind: 'p', text: noise })
    out.push(costTableBlock(head))
    out.push(
      ...chart(
        stackedBars(
          'Redis commands per request',
          'Redis commands per request (idle rate subtracted)',
          MODES.filter((m) => head.modes[m]).map((m) => ({
            label: m,
            parts: [{ name: 'commands', value: head.modes[m]!.redisCommandsPerRequest }],
            note: f2(head.modes[m]!.redisCommandsPerRequest),
          })),
          (n) => n.toFixed(2),
        ),
      ),
    )
  }
  const warmRuns = r.runs.filter((x) => x.tokenProfile === 'warm').sort((a, b) => a.replicas - b.replicas)
  if (warmRuns.length > 1) {
    out.push({ kind: 'h3', text: 'Total CPU per request vs replicas (warm tokens)' })
    out.push({
      kind: 'p',
      text: "All replicas share the servers' core here, so more replicas add scheduling and idle work per request. Each cell: total µs, and the ratio to `none` of the same run with its 95 % interval.",
    })
    out.push({
      kind: 'table',
      head: [
        'mode',
        ...warmRuns.map((x) => `@${x.replicas}`),
        ...warmRuns.map((x) => `noise floor @${x.replicas}`),
      ],
      rows: [
        ...MODES.map((mode) => [
          `\`${mode}\``,
          ...warmRuns.map((x) =>
            x.modes[mode]
              ? `${f1(total(x.modes[mode]!))} (${mode === 'none' ? '1.00×' : vsNone(x.modes[mode]!, 'totalCpu')})`
              : '–',
          ),
          ...warmRuns.map((x) => (x.noiseFloor ? `±${pct(x.noiseFloor.totalCpu)}` : '–')),
        ]),
      ],
    })
  }
  const pairedRuns = warmRuns.filter((x) => x.sameWindow)
  if (pairedRuns.length > 1) {
    out.push({
      kind: 'h3',
      text: 'Replica CPU per request vs `none`, same window, vs replicas (warm tokens)',
    })
    out.push({
      kind: 'p',
      text: "The same-window ratio at each replica count, with the A/A control's floor. With more replicas per core, a request that waits for Redis or auth costs more of the core: its answer wakes the replica a second time, and with more processes to switch between each wake-up finds colder caches.",
    })
    out.push({
      kind: 'table',
      head: ['mode', ...pairedRuns.map((x) => `@${x.replicas}`)],
      rows: [
        ...MODES.filter((m) => m !== 'none').map((mode) => [
          `\`${mode}\``,
          ...pairedRuns.map((x) => (x.modes[mode] ? sameWindow(x.modes[mode]!) : '–')),
        ]),
        [
          'A/A (`none` on both sides)',
          ...pairedRuns.map((x) => `${interval(x.sameWindow!.aa)} (±${pct(x.sameWindow!.noiseFloor)})`),
        ],
      ],
    })
  }
  const coreRuns = pairedRuns.filter((x) => x.sameWindow?.serverAa)
  if (coreRuns.length) {
    out.push({
      kind: 'h3',
      text: 'Server-core capacity and event-loop wake-ups at shared load, same window (warm tokens)',
    })
    out.push({
      kind: 'p',
      text: "From the same windows as the ratios above. Capacity vs `none` is the inverse of the server core's CPU per request at that shared load: the mode's replicas plus Redis, auth and Postgres (only the mode's requests reach them) against `none`'s replicas, each side with half of nginx. Wake-ups are the replicas' event-loop context switches per request (/proc/<pid>/status of the main thread), the mode's against `none`'s in the same window: a request that waits for Redis or auth returns to a loop that has gone to sleep more often than one answered at once.",
    })
    out.push({
      kind: 'table',
      head: [
        'mode',
        ...coreRuns.flatMap((x) => [
          `@${x.replicas} capacity vs \`none\``,
          `@${x.replicas} wake-ups / request (mode / \`none\`)`,
        ]),
      ],
      rows: [
        ...MODES.filter((m) => m !== 'none').map((mode) => [
          `\`${mode}\``,
          ...coreRuns.flatMap((x) =>
            x.modes[mode] ? [coreThroughput(x.modes[mode]!), wakeups(x.modes[mode]!)] : ['–', '–'],
          ),
        ]),
        [
          'A/A (`none` on both sides)',
          ...coreRuns.flatMap((x) => [
            `${f2(1 / x.sameWindow!.serverAa!.median)}× (±${pct(x.sameWindow!.serverNoiseFloor)})`,
            '–',
          ]),
        ],
      ],
    })
  }
  const cold = headlineRun(r, 'cold')
  if (cold) {
    out.push({ kind: 'h3', text: `Cold tokens (${cold.replicas} replicas)` })
    const noise = noiseLine(cold)
    if (noise) out.push({ kind: 'p', text: noise })
    out.push(costTableBlock(cold))
  }
  const more = findings(r)
  if (more.length) out.push({ kind: 'h2', text: 'What else the figures say' }, { kind: 'list', items: more })

  for (const profile of ['warm', 'cold'] as const) {
    const t = sweepTable(r, profile)
    const runs = r.runs.filter((x) => x.tokenProfile === profile).sort((a, b) => a.replicas - b.replicas)
    if (!t || runs.length === 0) continue
    const rate = runs.find((x) => finite(x.modes.none?.p99Ms)) ?? runs[0]!
    out.push({
      kind: 'h2',
      text: `Throughput (saturation) and p99 latency at a fixed rate, vs replicas — ${profile} tokens`,
    })
    out.push({
      kind: 'p',
      text: `Saturation: ${runs[0]!.generator}, median [95 % CI] over repetitions; latency: ${rate.latencyGenerator} at ${f0(rate.modes.none?.latencyRate)} req/s (half the slowest mode's saturation rate). – = not measured at that count.`,
    })
    const xs = runs.map((x) => x.replicas)
    out.push(
      ...chart(
        lineChart(
          `Saturation throughput vs replicas — ${profile} tokens`,
          'replicas per service',
          'req/s',
          xs,
          MODES.map((m) => ({ name: m, values: runs.map((x) => x.modes[m]?.rps) })),
        ),
      ),
      ...chart(
        lineChart(
          `p99 latency at a fixed rate vs replicas — ${profile} tokens`,
          'replicas per service',
          'p99 ms',
          xs,
          MODES.map((m) => ({ name: m, values: runs.map((x) => x.modes[m]?.p99Ms) })),
        ),
      ),
    )
    out.push(t)
  }
  const net = r.network
  if (net?.delays.length) {
    out.push({ kind: 'h2', text: 'Latency with Redis and auth a network hop away' })
    out.push({
      kind: 'p',
      text:
        `${net.replicas} replicas per service, warm tokens, ${f0(net.rateRps)} req/s fixed arrival rate for ${net.durationS} s per mode and delay. ` +
        `Delay: ${net.mechanism}${net.note ? ` — ${net.note}` : ''}. The Redis round trip row is measured through that path.`,
    })
    const xs = net.delays.map((d) => d.delayMs)
    out.push(
      ...chart(
        lineChart(
          'p50 latency vs one-way delay to Redis and auth',
          'one-way delay added (ms)',
          'p50 ms',
          xs,
          MODES.map((m) => ({ name: m, values: net.delays.map((d) => d.modes[m]?.p50Ms) })),
        ),
      ),
    )
    out.push({
      kind: 'table',
      head: ['mode', ...net.delays.map((d) => `p50 / p99 ms @ ${d.delayMs} ms`)],
      rows: [
        ['Redis round trip (measured)', ...net.delays.map((d) => `${f2(d.redisRoundTripMs)}`)],
        ...MODES.map((m) => [
          `\`${m}\``,
          ...net.delays.map((d) => {
            const x = d.modes[m]
            return x ? `${f2(x.p50Ms)} / ${f2(x.p99Ms)}${x.errors ? ` (${x.errors} errors)` : ''}` : '–'
          }),
        ]),
      ],
    })
  }
  if (r.algorithms) {
    out.push({ kind: 'h2', text: 'Signing algorithm: CPU per verification (fast-jwt, in process)' })
    out.push({
      kind: 'table',
      head: [
        'algorithm',
        'cold verify µs',
        'raw node:crypto verify µs',
        'warm (cached) verify µs',
        'sign µs',
      ],
      rows: Object.entries(r.algorithms.verify).map(([a, c]) => [
        a,
        f1(c.coldVerifyUs),
        f1(c.rawVerifyUs),
        f2(c.warmVerifyUs),
        f1(c.signUs),
      ]),
    })
  }
  if (Object.keys(r.revocation).length) {
    out.push({ kind: 'h2', text: 'Revocation window after logout-all' })
    out.push(
      ...chart(
        stackedBars(
          'Revocation window after logout-all, max over trials (jwt: until exp, cut at the probe window)',
          'ms after logout-all returned',
          Object.entries(r.revocation).map(([m, v]) => ({
            label: m,
            parts: [{ name: 'window max', value: v.windowMsMax }],
            note: v.censored ? `≥ ${f0(v.windowMsMax)} ms` : `${f0(v.windowMsMax)} ms`,
          })),
          (n) => f0(n),
        ),
      ),
    )
    out.push({
      kind: 'table',
      head: [
        'mode',
        'window p50 ms',
        'p99 ms',
        'max ms',
        'accepted after revoke',
        'replicas seen',
        'replicas accepting after',
        'trials',
      ],
      rows: Object.entries(r.revocation).map(([m, v]) => [
        `\`${m}\``,
        v.censored ? `≥ ${f0(v.windowMsP50)} (until exp)` : f0(v.windowMsP50),
        f0(v.windowMsP99),
        f0(v.windowMsMax),
        String(v.acceptedAfterRevoke),
        String(v.replicasSeen),
        String(v.replicasAcceptingAfterRevoke),
        String(v.trials),
      ]),
    })
  }
  if (Object.keys(r.faults).length) {
    out.push({
      kind: 'h2',
      text: 'Faults: answers while each fault lasted, and revoked credentials accepted afterwards',
    })
    for (const [scenario, byMode] of Object.entries(r.faults)) {
      out.push(
        ...chart(
          stackedBars(
            `Fault: ${scenario} — answers per mode while it lasted`,
            'requests (count)',
            MODES.filter((m) => byMode[m]).map((m) => {
              const o = byMode[m]!
              const count = (is: (c: string) => boolean) =>
                Object.entries(o.statusCounts).reduce((n, [c, k]) => n + (is(c) ? k : 0), 0)
              return {
                label: m,
                parts: [
                  { name: '200', value: count((c) => c === '200') },
                  { name: '401', value: count((c) => c === '401') },
                  { name: '503', value: count((c) => c === '503') },
                  { name: 'other', value: count((c) => !['200', '401', '503'].includes(c)) },
                ],
                note: `${o.ok}/${o.requests} ok`,
              }
            }),
            (n) => f0(n),
          ),
        ),
      )
    }
    const scenarios = Object.keys(r.faults)
    out.push({
      kind: 'table',
      head: ['mode', ...scenarios],
      rows: MODES.map((mode) => [
        `\`${mode}\``,
        ...scenarios.map((s) => {
          const o = r.faults[s]?.[mode]
          if (!o) return '–'
          const codes = Object.entries(o.statusCounts)
            .filter(([c]) => c !== '200')
            .map(([c, n]) => `${c}×${n}`)
            .join(' ')
          return `${o.ok}/${o.requests} ok${codes ? ` ${codes}` : ''}${o.revokedAccepted ? ` **${o.revokedAccepted} revoked accepted**` : ''}`
        }),
      ]),
    })
  }
  if (r.topologies?.length) out.push(...topologyBlocks(r.topologies))
  const model = r.capacityModel
  const modeled = MODES.filter((m) => model.modes[m])
  if (modeled.length) {
    const xs = [1, 2, 4, 8, 16, 32, 64]
    out.push({ kind: 'h2', text: 'Capacity model: predicted max throughput vs replicas' })
    const v = model.validation
    out.push(
      ...chart(
        lineChart(
          'Capacity model: predicted max throughput',
          'replicas per service (one core each)',
          'req/s',
          xs,
          modeled.map((m) => ({
            name: m,
            values: xs.map((x) => model.modes[m]!.predictedMaxRps[String(x)]),
          })),
          v?.measuredRps !== undefined && v.predictedRps !== undefined && v.replicas
            ? [
                {
                  name: `validation predicted (${v.mode}, Redis at ${f2(v.redisCpuQuota)} core)`,
                  x: v.replicas,
                  y: v.predictedRps,
                },
                { name: `validation measured (${v.mode})`, x: v.replicas, y: v.measuredRps },
              ]
            : [],
        ),
      ),
    )
    out.push({
      kind: 'table',
      head: ['mode', ...xs.map(String), 'limit at 64'],
      rows: modeled.map((m) => [
        `\`${m}\``,
        ...xs.map((k) => f0(model.modes[m]!.predictedMaxRps[String(k)])),
        model.modes[m]!.limitedBy['64'] ?? '',
      ]),
    })
    out.push({ kind: 'p', text: `Assumptions: ${(model.assumptions ?? []).join('; ')}.` })
    if (v)
      out.push({
        kind: 'p',
        text:
          v.measuredRps !== undefined
            ? `Check against a measured run where Redis is the bottleneck (\`${v.mode}\`, Redis limited to ${f2(v.redisCpuQuota)} of a core by a cgroup CPU quota): predicted ${f0(v.predictedRps)} req/s, measured ${f0(v.measuredRps)} req/s (${f2((v.measuredRps ?? 0) / (v.predictedRps ?? 1))}× the prediction).` +
              (v.redisCpuUsPerRequest !== undefined
                ? ` In that window Redis used ${pct(v.quotaUsed)} of its quota and spent ${f1(v.redisCpuUsPerRequest)} µs per request, against the ${f1(v.modelRedisCpuUsPerRequest)} µs the model took from the unconstrained windows (${f2(v.redisCpuUsPerRequest / (v.modelRedisCpuUsPerRequest ?? 1))}×): the prediction is only as good as that input.`
                : '')
            : `Check against a Redis-bound run: skipped (${v.skipped}).`,
      })
  }
  out.push({ kind: 'h2', text: 'Method' })
  out.push({
    kind: 'list',
    items: [
      `Windows of ${r.settings.windowS} s after ${r.settings.warmupS} s of warm-up, ${r.settings.repetitions} repetitions. In each repetition every mode is measured once and \`none\` twice, in an order shuffled from seed ${r.seed}; each mode is divided by the \`none\` windows of its own repetition (paired ratios cancel drift), the median over repetitions reported with a 95 % percentile-bootstrap interval.`,
      `Same-window ratios (${r.settings.sameWindowRepetitions ?? 0} repetitions of ${r.settings.sameWindowS ?? 0} s per replica count and token profile): one service's replicas answer the mode while the other service's answer \`none\`, from one generator alternating between them, so both sides get the same requests on the same core at the same moment and the ratio of their CPU is the ratio per request. Which service carries a mode alternates from repetition to repetition (not from window to window: a service pays some of a heavier mode's work in the next window, deferred garbage collection, and strict alternation always handed it to the \`none\` side); the A/A slot runs \`none\` on both. Why: this VM's core changes speed by up to 2× for seconds at a time with none of our load running (a fixed JavaScript loop pinned to either core measured 2,000–4,000 iterations per second, in runs of several seconds), which no ordering of sequential windows can cancel; a same-window ratio is immune to it. The same windows give the server core's capacity at that load: a saturated core serves requests at the inverse of the CPU each costs, so the mode's server-core CPU per request (its replicas, Redis, auth, Postgres and half of nginx) over \`none\`'s is the inverse of a capacity ratio, without the sequential windows' floor; and each side's event-loop context switches per request, read from /proc before and after the window.`,
      "What the same window cannot show: mixing changes what a request costs. Each side's replicas get half of the load, so they answer fewer requests per wake-up of their event loop than a replica that has the core to itself; that raises `none`'s cost per request more than that of a mode whose requests wait for Redis anyway, so a same-window ratio reads lower than the ratio of each mode alone at saturation, and its capacity ratio higher than the throughput a core serving only that mode reaches. `node loadtest/src/mixed-load.ts session jwt-denylist` measures both ways on one small cluster, with its own A/A control (one run is in the README).",
      'A/A control: the two `none` windows of a repetition, later over earlier. Identical work, so its distance from 1.00 is the run’s noise (position, drift, the VM); the noise floor is the largest distance of its 95 % interval from 1, and a mode whose ratio to `none` lies within it is marked "within noise".',
      'CPU per request: each tier’s CPU time (/proc, all threads) over the window divided by the requests answered 200. The servers share one core, so near saturation this tracks 1/throughput; the tier split is what differs.',
      `Token profiles: warm = ${r.settings.warmPool}; cold = ${r.settings.coldPool}. Per-replica caches in the bench cluster: fast-jwt ${r.settings.jwtVerifyCacheSize} tokens, session-cached ${r.settings.sessionCacheMaxEntries} sessions, so the cold pool misses them and the warm pool hits.`,
      `Redis commands per request subtract the idle command rate measured beforehand (${f1(Number(r.settings.backgroundRedisCallsPerS))}/s: jwt-pushed heartbeats, reconciliation).`,
      ...PROFILE_FINDINGS,
      'Timings are ratios within this run on this machine; compare modes with each other, not with figures from elsewhere.',
    ],
  })
  return out
}

/**
 * What `node loadtest/src/profile.ts session jwt-denylist` showed (replicas' self time, warm
 * tokens, 1 replica per service); rerun it after changing the verification path.
 */
const PROFILE_FINDINGS = [
  "Profile, `none`: a replica's time is Node's HTTP machinery — socket writes (the write syscall is the largest single item, ~12–17 % self time), the HTTP parser, Fastify's routing and serialisation, the per-request metrics (prom-client and fastify-metrics ~7 %) and pino's child logger.",
  '`session` adds the ioredis path: a Command object and promise per command, the auto-pipeline flush, a second socket write per flush, and a one-shot SHA-256 of the session id (Redis holds hashes, never live ids); and more wake-ups, since a replica that waits for Redis has more often gone to sleep when the answer comes (the wake-up column above). `node loadtest/src/floor.ts` separates them, in the same window against `none` on two replicas of the real app: a GET on a bare socket cost the replica nothing (0.89×), one through ioredis 1.06×, with ioredis’ per-command timeout 1.10× (so a watchdog per connection now makes a hung Redis fail closed instead), without auto-pipelining 1.17×, and `session` and `jwt-denylist` 1.22× each: about 15 µs of client and 15 µs of verification (SHA-256, JSON, readiness checks, cookie or JWT and MGET) over a `none` request of about 85 µs (one run, in the README). Turning auto-pipelining off cost more (1.34× instead of 1.26× replica CPU in one-off same-window runs at 1 replica per service on an earlier VM of this kind, not repeated by this bench).',
  "The JWT modes used @fastify/jwt's `request.jwtVerify` with a key callback: on every request it decoded the whole token for the `kid`, ran its request wrapper, and fast-jwt hashed the token (SHA-256, after a base64 decode of its header) as its cache key even on a hit. `jwt` measured 1.45× and `jwt-denylist` 1.74× `none` in one-off same-window runs at 1 replica per service, before the change. Now @authlab/verify compiles one fast-jwt verifier per key of the set when the key arrives, remembers each distinct header's `kid`, and keys fast-jwt's cache by the whole token string, which cannot collide: 1.07× and 1.30× in the same one-off runs after it (this bench's own figures are in the tables above).",
]

// ---------- renderers ----------

/** The README's "Beyond one machine" table: each Redis topology's primary killed under load. */
function topologyBlocks(runs: readonly TopologyFailover[]): Block[] {
  const seconds = (ms: number) => (ms / 1000).toFixed(1)
  const modes = MODES.filter((m) => runs.some((t) => t.modes[m]))
  return [
    {
      kind: 'h2',
      text: 'Failover: the primary holding the revocation keys killed under load, per Redis topology',
    },
    {
      kind: 'p',
      text: "Per mode: when live credentials were refused, from the first failed request to the last, in seconds after the kill (errors / requests); and how many requests with an already revoked credential, started after the mode's bound, were accepted before, during or after.",
    },
    {
      kind: 'table',
      head: ['mode', ...runs.map((t) => t.topology)],
      rows: [
        ...modes.map((m) => [
          `\`${m}\``,
          ...runs.map((t) => {
            const x = t.modes[m]
            if (!x) return '–'
            // A request sent just before the kill can fail: its start is shown as 0.
            const when =
              x.errorsFromMs === undefined
                ? 'no error'
                : `${seconds(Math.max(0, x.errorsFromMs))}–${seconds(x.errorsUntilMs ?? 0)} s`
            return `${when} (${x.errors}/${x.requests}); revoked accepted ${x.revokedAccepted}/${x.revokedProbes}`
          }),
        ]),
        ['Redis back after', ...runs.map((t) => `${seconds(t.recoveryMs)} s`)],
        [
          'sessions lost',
          ...runs.map(
            (t) =>
              `${t.sessionsLost} of ${t.sessionsBefore} (${t.sessionsOnKilledPrimary} on the killed primary)`,
          ),
        ],
        [
          'logouts during the run',
          ...runs.map((t) => `${t.revocations.acknowledged} of ${t.revocations.attempted} acknowledged`),
        ],
        [
          'revocation write with WAIT 1',
          ...runs.map((t) =>
            t.waitCost
              ? `${f2(t.waitCost.ratio)}× (${f0(t.waitCost.wait0Us)} → ${f0(t.waitCost.wait1Us)} µs median)`
              : 'no replica: no WAIT',
          ),
        ],
      ],
    },
    { kind: 'list', items: runs.map((t) => `${t.topology}: ${t.fault}.`) },
  ]
}

/** The failover table alone, as `pnpm failover` writes it. */
export function renderTopologiesMarkdown(runs: readonly TopologyFailover[]): string {
  return markdown(topologyBlocks(runs))
}

function markdown(blocks: Block[]): string {
  return blocks
    .flatMap((b) => {
      switch (b.kind) {
        case 'h1':
          return [`# ${b.text}`]
        case 'h2':
          return [`## ${b.text}`]
        case 'h3':
          return [`### ${b.text}`]
        case 'p':
          return [b.text]
        case 'list':
          return [b.items.map((i) => `- ${i}`).join('\n')]
        case 'table':
          return [
            [
              `| ${b.head.join(' | ')} |`,
              `|${b.head.map(() => '---').join('|')}|`,
              ...b.rows.map((r) => `| ${r.join(' | ')} |`),
            ].join('\n'),
          ]
        default:
          return [] // charts are HTML only
      }
    })
    .join('\n\n')
}

const inline = (s: string) =>
  esc(s)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')

function html(blocks: Block[]): string {
  return blocks
    .map((b) => {
      switch (b.kind) {
        case 'h1':
        case 'h2':
        case 'h3':
          return `<${b.kind}>${inline(b.text)}</${b.kind}>`
        case 'p':
          return `<p>${inline(b.text)}</p>`
        case 'list':
          return `<ul>${b.items.map((i) => `<li>${inline(i)}</li>`).join('')}</ul>`
        case 'table':
          return `<table><thead><tr>${b.head.map((c) => `<th>${inline(c)}</th>`).join('')}</tr></thead><tbody>${b.rows
            .map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`)
            .join('')}</tbody></table>`
        default:
          return b.svg
      }
    })
    .join('\n')
}

export function renderMarkdown(r: Results): string {
  return `${markdown(reportBlocks(r))}\n`
}

export function renderHtml(r: Results): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>authlab bench ${esc(r.startedAt)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1000px;color:#222}
table{border-collapse:collapse;margin:1rem 0;font-size:13px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}figure{margin:1.5rem 0}figcaption{font-weight:600;margin-bottom:.5rem}
code{background:#f3f3f3;padding:0 3px}
</style></head><body>
${html(reportBlocks(r))}
</body></html>
`
}
