// Where a mode's replica CPU goes: one cluster per mode (1 replica per service, every Node process
// started with --cpu-prof), saturated with warm tokens, then the replicas' profiles summed by
// function. `node loadtest/src/profile.ts session jwt-denylist` (none is always profiled too, as
// the baseline). Profiles stay in the printed directory for Chrome DevTools or speedscope.
import { mkdtemp, readdir, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCluster } from '@authlab/cluster'
import { MODES } from '../lib/scenarios.js'
import { credentialPool, type Mode, requestPool } from './credentials.ts'
import { LoadGenerator } from './load.ts'

interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount: number
}
interface Profile {
  nodes: Node[]
  startTime: number
  endTime: number
  samples: number[]
}

const where = (n: Node) => {
  const url = n.callFrame.url
    .replace(/^file:\/\//, '')
    .replace(/.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '')
  return `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}` : ''}`.trim()
}

/** Self time per function (and per package) as a share of all samples, over several profiles. */
function summarise(profiles: Profile[], top: number) {
  const byFunction = new Map<string, number>()
  const byPackage = new Map<string, number>()
  let total = 0
  for (const p of profiles) {
    for (const n of p.nodes) {
      if (n.callFrame.functionName === '(idle)') continue
      total += n.hitCount
      byFunction.set(where(n), (byFunction.get(where(n)) ?? 0) + n.hitCount)
      const pkg =
        /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(n.callFrame.url)?.[1] ??
        (n.callFrame.url.startsWith('node:')
          ? 'node core'
          : n.callFrame.url
            ? 'authlab'
            : n.callFrame.functionName)
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + n.hitCount)
    }
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`)
  return { total, functions: rank(byFunction), packages: rank(byPackage) }
}

const modes = ['none', ...process.argv.slice(2).filter((m) => m !== 'none')] as Mode[]
for (const m of modes) if (!(MODES as readonly string[]).includes(m)) throw new Error(`unknown mode ${m}`)
const root = await mkdtemp(join(tmpdir(), 'authlab-profile-'))
const generator = LoadGenerator.start()
try {
  for (const mode of modes) {
    const dir = join(root, mode)
    const cluster = await startCluster({
      replicas: 1,
      port: 0,
      env: {
        NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}`,
        LOG_LEVEL: 'warn',
        LOGIN_RATE_LIMIT_PER_IP: '1000000',
        GATEWAY_LOGIN_RATE: '1000000r/s',
        GATEWAY_LOGIN_BURST: '1000000',
      },
    })
    let served = 0
    try {
      const pool = await credentialPool(cluster.url, 'warm', `profile-${Date.now().toString(36)}`)
      const requests = requestPool(mode, pool)
      await generator.saturate(cluster.url, requests, { connections: 24, durationS: 2 })
      const r = await generator.saturate(cluster.url, requests, { connections: 24, durationS: 8 })
      served = r.ok
      if (r.non2xx > 0 || r.errors > r.requests / 1000)
        throw new Error(`${mode}: ${r.non2xx} non-2xx, ${r.errors} errors`)
    } finally {
      await cluster.close()
    }
    // Each process writes CPU.<date>.<pid>...cpuprofile on exit; the replicas are orders-1 and profile-1.
    const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'))
    const profiles: Profile[] = []
    for (const f of files) profiles.push(JSON.parse(await readFile(join(dir, f), 'utf8')) as Profile)
    const replicas = profiles.filter((p) =>
      p.nodes.some(
        (n) =>
          n.callFrame.url.includes('/packages/downstream/') || n.callFrame.url.includes('/services/orders'),
      ),
    )
    const s = summarise(replicas, 25)
    const sampleUs =
      replicas.reduce((n, p) => n + (p.endTime - p.startTime) / Math.max(p.samples.length, 1), 0) /
      Math.max(replicas.length, 1)
    console.log(
      `\n## ${mode}: ${served} requests, ${s.total} busy samples in ${replicas.length} replica profiles (≈${((s.total * sampleUs) / Math.max(served, 1)).toFixed(1)} µs of sampled CPU per request)`,
    )
    console.log('self time by package:')
    for (const l of s.packages.slice(0, 12)) console.log(`  ${l}`)
    console.log('self time by function:')
    for (const l of s.functions) console.log(`  ${l}`)
  }
  console.log(`\nprofiles: ${root}`)
} finally {
  generator.close()
}
