import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { MODES } from '../lib/scenarios.js'
import { renderHtml, renderMarkdown } from '../src/report.ts'
import type { ModeRun, Results } from '../src/results.ts'
import { SCHEMA_FILE, schemaJson, validateResults } from '../src/schema.ts'
import { bootstrapMedian, noiseFloor, seeded, shuffle, withinNoise } from '../src/stats.ts'

test('results.schema.json is exactly what the TypeBox definition yields (regenerate with pnpm --filter @authlab/loadtest schema)', () => {
  assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), schemaJson())
})

test('a seeded shuffle replays the same order and covers every slot once', () => {
  const slots = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']
  const one = shuffle(slots, seeded(7))
  assert.deepEqual(shuffle(slots, seeded(7)), one)
  assert.deepEqual([...one].sort(), slots)
  const firsts = new Set(Array.from({ length: 50 }, (_, i) => shuffle(slots, seeded(i))[0]))
  assert.ok(firsts.size >= 6, 'over many seeds, many slots come first')
})

test('the bootstrap interval contains the median, narrows with more repetitions, and an A/A interval around 1 gives its floor', () => {
  const few = bootstrapMedian([0.9, 1.1, 1.0], seeded(1))
  const many = bootstrapMedian([0.9, 1.1, 1.0, 0.95, 1.05, 1.0, 0.98, 1.02, 1.01, 0.99, 1.0, 1.03], seeded(1))
  for (const e of [few, many]) assert.ok(e.lo <= e.median && e.median <= e.hi)
  assert.ok(many.hi - many.lo < few.hi - few.lo)
  const floor = noiseFloor({ median: 1.01, lo: 0.97, hi: 1.04 })
  assert.equal(floor.toFixed(2), '0.04')
  assert.equal(withinNoise({ median: 1.03, lo: 1, hi: 1.05 }, floor), true)
  assert.equal(withinNoise({ median: 1.2, lo: 1.1, hi: 1.3 }, floor), false)
  assert.ok(Number.isNaN(bootstrapMedian([], seeded(1)).median))
})

const est = (m: number) => ({ median: m, lo: m * 0.95, hi: m * 1.05 })
function modeRun(i: number, latency: boolean): ModeRun {
  return {
    rps: 1000 + 100 * i,
    rpsSpread: 0.05,
    rpsInterval: est(1000 + 100 * i),
    p50Ms: latency ? 1 : Number.NaN,
    p95Ms: latency ? 2 : Number.NaN,
    p99Ms: latency ? 3 + i : Number.NaN,
    latencyRate: 500,
    errors: 0,
    redisCommandsPerRequest: i % 2,
    redisCpuUsPerRequest: 10,
    replicaCpuUsPerRequest: 100 + 10 * i,
    replicaCpuInterval: est(100 + 10 * i),
    nginxCpuUsPerRequest: 20,
    authCpuUsPerRequest: i === 6 ? 300 : 1,
    vsNone: { rps: est(1 - i / 20), replicaCpu: est(1 + i / 10), totalCpu: est(1 + i / 10) },
    withinNoise: { rps: i < 2, replicaCpu: i < 2, totalCpu: i < 2 },
  }
}
function synthetic(): Results {
  const run = (replicas: number, tokenProfile: 'warm' | 'cold', latency: boolean) => ({
    replicas,
    tokenProfile,
    algorithm: 'EdDSA' as const,
    generator: 'autocannon',
    latencyGenerator: 'vegeta (open model)',
    modes: Object.fromEntries(MODES.map((m, i) => [m, modeRun(i, latency)])),
    order: [[...MODES, 'none (A/A)']],
    aa: { rps: est(1.01), replicaCpu: est(0.99), totalCpu: est(1) },
    noiseFloor: { rps: 0.06, replicaCpu: 0.05, totalCpu: 0.05 },
  })
  return {
    machine: { cpus: 2, node: '24.21.0', platform: 'linux x64', pinning: 'No CPU pinning.' },
    startedAt: '2026-11-24T00:00:00.000Z',
    profile: 'quick',
    gateway: 'native cluster',
    seed: 42,
    settings: { windowS: 0.5, warmupS: 0.2, repetitions: 3 },
    skipped: [],
    // The quick profile measures latency only at the largest count: the chart must not plot NaN.
    runs: [run(1, 'warm', false), run(2, 'warm', true), run(2, 'cold', true)],
    revocation: {
      jwt: {
        windowMsP50: 2500,
        windowMsP99: 2500,
        windowMsMax: 2500,
        acceptedAfterRevoke: 9,
        replicasSeen: 4,
        replicasAcceptingAfterRevoke: 4,
        trials: 3,
        censored: true,
      },
    },
    faults: {
      'redis-stopped': {
        session: { requests: 100, ok: 60, statusCounts: { '200': 60, '503': 40 }, revokedAccepted: 0 },
      },
    },
    algorithms: { verify: { EdDSA: { coldVerifyUs: 150, warmVerifyUs: 4, signUs: 70, rawVerifyUs: 140 } } },
    capacityModel: {
      modes: {
        none: {
          predictedMaxRps: { 1: 2000, 2: 4000, 4: 8000, 8: 16000, 16: 32000, 32: 64000, 64: 128000 },
          limitedBy: { 64: 'replicas' },
        },
        session: {
          predictedMaxRps: { 1: 1500, 2: 3000, 4: 6000, 8: 12000, 16: 20000, 32: 20000, 64: 20000 },
          limitedBy: { 64: 'redis' },
        },
      },
      validation: {
        mode: 'session',
        replicas: 2,
        redisCpuQuota: 0.02,
        predictedRps: 350,
        measuredRps: 300,
        redisCpuUsPerRequest: 66,
        modelRedisCpuUsPerRequest: 57,
        quotaUsed: 0.99,
      },
    },
  }
}

test('the report leads with title, machine and summary, marks differences within the noise floor, and no chart plots NaN or lacks axis labels', () => {
  const r = synthetic()
  assert.deepEqual(validateResults(r), [])
  const md = renderMarkdown(r)
  const heads = md.split('\n').filter((l) => l.startsWith('#'))
  assert.match(heads[0]!, /^# authlab bench/)
  assert.equal(heads[1], '## Summary')
  assert.match(md, /Machine: 2 CPUs/)
  assert.match(md, /Noise floor/)
  assert.match(md, /\(within noise\)/)
  const html = renderHtml(r)
  assert.doesNotMatch(html, /NaN/)
  assert.ok(html.indexOf('<h2>Summary</h2>') < html.indexOf('<svg'), 'charts come after the summary')
  const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? []
  assert.ok(svgs.length >= 6)
  for (const svg of svgs) assert.match(svg, /µs|req\/s|ms|count|commands/, 'every chart names its unit')
  assert.match(html, /log scale/, 'the capacity curves span more than 20×: log scale')
  assert.match(html, /validation measured/, 'the capacity chart shows the measured validation point')
  assert.match(
    md,
    /Redis used 99\.0 % of its quota and spent 66\.0 µs per request, against the 57\.0 µs the model took/,
    'the capacity check says how far its own input was off',
  )
  assert.match(html, /60\/100 ok/, 'fault charts show counts')
  // Tables are rendered from the model, not parsed back from Markdown: the same rows in both.
  assert.equal((html.match(/<table>/g) ?? []).length, (md.match(/^\|---/gm) ?? []).length)
})

test('a run with the failover phase validates, and its report says per topology when each mode failed and how many revoked credentials it accepted', () => {
  const mode = (errors: number, accepted: number) => ({
    requests: 1000,
    errors,
    errorWindowMs: errors ? 2500 : 0,
    ...(errors ? { errorsFromMs: -3, errorsUntilMs: 2497 } : {}),
    revokedProbes: 80,
    revokedAccepted: accepted,
  })
  const r: Results = {
    ...synthetic(),
    topologies: (['standalone', 'cluster'] as const).map((topology) => ({
      topology,
      fault: `${topology} primary killed`,
      recoveryMs: 2300,
      sessionsBefore: 12,
      sessionsOnKilledPrimary: 4,
      sessionsLost: 0,
      revocations: { attempted: 30, acknowledged: 28 },
      modes: { jwt: mode(0, 80), session: mode(120, 0), 'jwt-pushed': mode(40, 0) },
      ...(topology === 'cluster' ? { waitCost: { wait0Us: 700, wait1Us: 900, ratio: 900 / 700 } } : {}),
    })),
  }
  assert.deepEqual(validateResults(r), [])
  const md = renderMarkdown(r)
  assert.match(md, /## Failover: the primary holding the revocation keys killed under load/)
  assert.match(
    md,
    /\| `session` \| 0\.0–2\.5 s \(120\/1000\); revoked accepted 0\/80 \|/,
    'a start before the kill shows as 0',
  )
  assert.match(md, /\| `jwt` \| no error \(0\/1000\); revoked accepted 80\/80 \|/)
  assert.match(md, /1\.29× \(700 → 900 µs median\)/)
  assert.match(
    md,
    /Failover \(standalone, cluster\): 0 revoked credentials accepted in the modes that must refuse them, 0 sessions lost/,
  )
  assert.match(renderHtml(r), /no replica: no WAIT/)
})

test('with same-window ratios, the cost table leads with them, the summary states both noise floors and lists every mode, and within-noise ratios are marked', () => {
  const r = synthetic()
  r.settings = { ...r.settings, sameWindowRepetitions: 12, sameWindowS: 0.75 }
  for (const run of r.runs) {
    run.sameWindow = {
      aa: est(1.0),
      noiseFloor: 0.03,
      serverAa: est(1.0),
      serverNoiseFloor: 0.04,
      repetitions: 12,
      windowS: 0.75,
      order: [['jwt@orders']],
    }
    MODES.forEach((m, i) => {
      if (m !== 'none')
        run.modes[m]!.sameWindow = {
          replicaCpu: est(1 + i / 10),
          withinNoise: i === 1,
          serverCpu: est(1.25),
          serverWithinNoise: false,
          wakeups: { mode: est(0.8), none: est(0.3) },
        }
    })
  }
  assert.deepEqual(validateResults(r), [])
  const md = renderMarkdown(r)
  assert.match(md, /\| mode \| replica CPU vs none, same window \(95 % CI\) \|/)
  assert.match(
    md,
    /measured in the same window, `none` against itself reads 1\.00 \[0\.95–1\.05\] in replica CPU per request \(±3\.0 %\)/,
  )
  const listed = md.split('\n').find((l) => l.includes('Replica CPU per request vs `none`, same window'))!
  for (const m of MODES.filter((x) => x !== 'none')) assert.match(listed, new RegExp(`\`${m}\``))
  assert.match(listed, /`jwt` 1\.10× \[1\.04–1\.16\] \(within noise\)/)
  assert.match(md, /Same-window A\/A control \(`none` on both services, 12 repetitions of 0\.75 s\)/)
  assert.match(
    md,
    /\| mode \| @1 \| @2 \|\n\|---\|---\|---\|\n\| `jwt` \| 1\.10× \[1\.04–1\.16\] \(within noise\) \| 1\.10×/,
    'the same-window ratios by replica count',
  )
  // Throughput where the core is the bottleneck is the inverse of server CPU: 1 / 1.25 = 0.80,
  // its interval the inverse of est()'s [1.19–1.31].
  assert.match(
    listed,
    /Server-core capacity vs `none` at that shared load .*`session` 0\.80× \[0\.76–0\.84\]/,
  )
  assert.match(
    md,
    /\| mode \| @1 capacity vs `none` \| @1 wake-ups \/ request \(mode \/ `none`\) \| @2 capacity vs `none` \|/,
  )
  assert.match(md, /\| `session` \| 0\.80× \[0\.76–0\.84\] \| 0\.80 \/ 0\.30 \|/)
  assert.match(md, /\| A\/A \(`none` on both sides\) \| 1\.00× \(±4\.0 %\) \| – \|/)
})
