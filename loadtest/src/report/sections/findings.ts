import type { Results } from '../../results.ts'
import { f1, f2, finite, headlineRun, MODES, total, vsNone } from '../format.ts'
import type { Block } from '../model.ts'

function cheapestAndDearest(r: Results): string[] {
  const warm = headlineRun(r, 'warm')
  const cold = r.runs.find((x) => x.tokenProfile === 'cold' && x.replicas === warm?.replicas)
  return [warm, cold].flatMap((run) => {
    if (!run) return []
    const ranked = MODES.filter((m) => m !== 'none' && run.modes[m] && finite(total(run.modes[m]!))).sort(
      (a, b) => total(run.modes[a]!) - total(run.modes[b]!),
    )
    if (ranked.length < 2) return []
    const [cheap, dear] = [ranked[0]!, ranked.at(-1)!]
    return [
      `${run.tokenProfile === 'warm' ? 'Warm' : 'Cold'} tokens, ${run.replicas} replica(s), all tiers: cheapest \`${cheap}\` at ${vsNone(run.modes[cheap]!, 'totalCpu')} of \`none\`'s CPU per request, dearest \`${dear}\` at ${vsNone(run.modes[dear]!, 'totalCpu')}.`,
    ]
  })
}

function caches(r: Results): string[] {
  const warm = headlineRun(r, 'warm')
  const cold = r.runs.find((x) => x.tokenProfile === 'cold' && x.replicas === warm?.replicas)
  if (!warm || !cold) return []
  return ['jwt', 'session-cached'].flatMap((mode) => {
    const w = warm.modes[mode]
    const c = cold.modes[mode]
    if (!w || !c || !finite(w.replicaCpuUsPerRequest) || !finite(c.replicaCpuUsPerRequest)) return []
    return [
      `\`${mode}\` replica CPU per request: ${f1(w.replicaCpuUsPerRequest)} µs warm vs ${f1(c.replicaCpuUsPerRequest)} µs cold (${f2(c.replicaCpuUsPerRequest / Math.max(w.replicaCpuUsPerRequest, 1e-9))}×): its cache only helps credentials it saw recently.`,
    ]
  })
}

function algorithms(r: Results): string[] {
  const alg = r.algorithms
  if (!alg) return []
  const entries = Object.entries(alg.verify).sort((a, b) => a[1].coldVerifyUs - b[1].coldVerifyUs)
  const [fast, slow] = [entries[0], entries.at(-1)]
  const out: string[] = []
  if (fast && slow)
    out.push(
      `Cold verification: ${entries.map(([a, c]) => `${a} ${f1(c.coldVerifyUs)} µs`).join(', ')} of CPU per token; ${slow[0]} costs ${f1(slow[1].coldVerifyUs / fast[1].coldVerifyUs)}× ${fast[0]}.` +
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
  return out
}

/** Plain statements derived from the figures, beyond the summary. */
export function findingsList(r: Results): string[] {
  return [...cheapestAndDearest(r), ...caches(r), ...algorithms(r)]
}

export function findings(r: Results): Block[] {
  const items = findingsList(r)
  return items.length
    ? [
        { kind: 'h2', text: 'What else the figures say' },
        { kind: 'list', items },
      ]
    : []
}
