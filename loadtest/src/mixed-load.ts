// A mode's replica CPU per request against `none`'s, measured two ways on one small cluster (1
// replica per service): each mode alone at saturation (what a core serving only that mode spends),
// and mixed in the same window as the bench's same-window ratios do it (each side gets half of the
// load). Both sides' wake-ups per request are read too. Why: a replica's cost per request depends
// on how many requests it handles per wake-up of its event loop, and that differs between the two
// designs; this shows by how much, on this machine, in one run.
//   node loadtest/src/mixed-load.ts session jwt-denylist [--repetitions 10]
import { execFileSync } from 'node:child_process'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { DOWNSTREAM_SERVICES, startCluster, UNLIMITED_LOGINS_ENV } from '@authlab/cluster'
import { hasBinary } from '@authlab/servers'
import { MODES } from '../lib/scenarios.js'
import { credentialPool, type Mode, servicePool } from './credentials.ts'
import { LoadGenerator } from './load.ts'
import { bootstrapMedian, seeded, shuffle } from './stats.ts'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { repetitions: { type: 'string', default: '10' }, seed: { type: 'string' } },
})
const modes = (positionals.length ? positionals : ['session', 'jwt-denylist']) as Mode[]
for (const m of modes)
  if (!(MODES as readonly string[]).includes(m) || m === 'none')
    throw new Error(`not a mode to compare: ${m}`)
const repetitions = Number(values.repetitions)
const seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31)
const WINDOW_S = 0.75
const WARMUP_S = 0.25
const CONNECTIONS = 24

const cluster = await startCluster({
  replicas: 1,
  port: 0,
  env: { ...UNLIMITED_LOGINS_ENV, ACCESS_TOKEN_TTL_S: '3600', LOG_LEVEL: 'warn' },
})
// As the bench: servers on CPU 0, the generator apart, so its CPU never counts as theirs.
const pinned = cpus().length >= 2 && hasBinary('taskset')
if (pinned)
  for (const pids of Object.values(await cluster.pids()))
    for (const pid of pids)
      if (pid > 0) execFileSync('taskset', ['-a', '-p', '-c', '0', String(pid)], { stdio: 'ignore' })
const generator = LoadGenerator.start(pinned ? '1' : undefined)

interface Reading {
  /** replica CPU µs per request it answered, by service */
  cpu: Record<string, number>
  /** event-loop context switches per request it answered, by service */
  wakeups: Record<string, number>
  /** every server process's CPU µs per request answered */
  core: number
  rps: number
}

async function window(requests: Parameters<LoadGenerator['saturate']>[1], sides: number): Promise<Reading> {
  await generator.saturate(cluster.url, requests, { connections: CONNECTIONS, durationS: WARMUP_S })
  const before = await cluster.cpuTimes()
  const switchesBefore = cluster.contextSwitches()
  const r = await generator.saturate(cluster.url, requests, { connections: CONNECTIONS, durationS: WINDOW_S })
  const switchesAfter = cluster.contextSwitches()
  const after = await cluster.cpuTimes()
  if (r.non2xx || r.errors) throw new Error(`${r.non2xx} non-2xx, ${r.errors} errors in a window`)
  const perSide = r.ok / sides
  const us = (name: string) => 1000 * ((after[name] ?? 0) - (before[name] ?? 0))
  const cpu: Record<string, number> = {}
  const wakeups: Record<string, number> = {}
  for (const s of DOWNSTREAM_SERVICES) {
    cpu[s] = us(`${s}-1`) / perSide
    wakeups[s] = ((switchesAfter[`${s}-1`] ?? 0) - (switchesBefore[`${s}-1`] ?? 0)) / perSide
  }
  const core = Object.keys(after).reduce((sum, name) => sum + us(name), 0) / r.ok
  return { cpu, wakeups, core, rps: r.rps }
}

const f2 = (x: number) => x.toFixed(2)
const show = (label: string, xs: number[]) => {
  const e = bootstrapMedian(xs, seeded(0x5a3e))
  console.log(`  ${label.padEnd(58)} ${f2(e.median)} [${f2(e.lo)}–${f2(e.hi)}]`)
}

try {
  const pool = await credentialPool(cluster.url, 'warm', `mixed-${Date.now().toString(36)}`)
  const random = seeded(seed)
  console.log(`seed ${seed}, ${repetitions} repetitions of ${WINDOW_S} s windows, 1 replica per service`)
  for (const mode of modes) {
    const modeAlone = servicePool(mode, pool, 'orders')
    const noneAlone = servicePool('none', pool, 'orders')
    const noneOther = servicePool('none', pool, 'profile')
    const mixed = modeAlone.flatMap((r, i) => [r, noneOther[i % noneOther.length]!])
    // Everything once first: a fresh process runs interpreted.
    await generator.saturate(cluster.url, [...mixed, ...noneAlone], {
      connections: CONNECTIONS,
      durationS: 2,
    })
    const slots = ['mode', 'none', 'none (A/A)', 'mixed'] as const
    const reads = new Map<string, Reading[]>(slots.map((s) => [s, []]))
    for (let rep = 0; rep < repetitions; rep++) {
      for (const slot of shuffle(slots, random)) {
        const reading =
          slot === 'mode'
            ? await window(modeAlone, 1)
            : slot === 'mixed'
              ? await window(mixed, 2)
              : await window(noneAlone, 1)
        reads.get(slot)!.push(reading)
      }
    }
    const at = (slot: string, i: number) => reads.get(slot)![i]!
    const each = (f: (i: number) => number) => Array.from({ length: repetitions }, (_, i) => f(i))
    console.log(`\n## ${mode}: median [95 % bootstrap interval] over repetitions`)
    const figures: [string, (i: number) => number][] = [
      [
        'alone: replica CPU per request vs none',
        (i) => at('mode', i).cpu.orders! / at('none', i).cpu.orders!,
      ],
      ['alone: A/A, none vs none', (i) => at('none (A/A)', i).cpu.orders! / at('none', i).cpu.orders!],
      ['alone: server-core CPU per request vs none', (i) => at('mode', i).core / at('none', i).core],
      ['alone: throughput vs none', (i) => at('mode', i).rps / at('none', i).rps],
      [
        'mixed (same window): replica CPU per request vs none',
        (i) => at('mixed', i).cpu.orders! / at('mixed', i).cpu.profile!,
      ],
      [
        "mixed: none side's CPU per request vs none alone",
        (i) => at('mixed', i).cpu.profile! / at('none', i).cpu.orders!,
      ],
      [
        "mixed: mode side's CPU per request vs the mode alone",
        (i) => at('mixed', i).cpu.orders! / at('mode', i).cpu.orders!,
      ],
      ['wake-ups per request: none alone', (i) => at('none', i).wakeups.orders!],
      ['wake-ups per request: mode alone', (i) => at('mode', i).wakeups.orders!],
      ['wake-ups per request: none side, mixed', (i) => at('mixed', i).wakeups.profile!],
      ['wake-ups per request: mode side, mixed', (i) => at('mixed', i).wakeups.orders!],
    ]
    for (const [label, figure] of figures) show(label, each(figure))
  }
} finally {
  generator.close()
  await cluster.close()
}
