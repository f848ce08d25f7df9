// What the claims' checks share (docs/choosing.md): the run they read, links into its page, and
// the small comparisons the verdicts are made of.

import type { ModePlan } from '../../planner.ts'
import type { Estimate, ModeRun, Results, RevocationSummary, Run } from '../../results.ts'
import { decisionRun, f0, finite, headlineRun, sameWindow } from '../format.ts'
import { reportBlocks } from '../index.ts'

/** What the evidence says of a claim; the summary table shows the label, the section the detail. */
export type Verdict = 'holds' | 'conditional' | 'does not hold' | 'not measured'

export const LABEL: Record<Verdict, string> = {
  holds: 'holds',
  conditional: 'holds only under a condition',
  'does not hold': 'does not hold',
  'not measured': 'not measured in this run',
}

export interface Finding {
  verdict: Verdict
  /** the summary table's cell: the condition or the reason, in a few words */
  short: string
  /** answered from what the code does, not from a figure of the run */
  fromCode?: boolean
  /** the verdict in one or two sentences, conditions included */
  because: string
  figures: string[]
  /** the bench phase or test that proves it */
  proof: string[]
}

export interface Claim {
  /** the row of the articles' table, or the start of the bullet, the claim restates */
  source: { row: string } | { bullet: string }
  title: string
  /** the claim, in our words */
  said: string
  check: (c: Ctx) => Finding
}

/** What every check reads: the results, the runs the report leads with, and links into the run page. */
export interface Ctx {
  r: Results
  /** the decision table's run (tightest same-window control) */
  warm?: Run
  /** most replicas, warm tokens: the cost-by-tier table's run */
  wide?: Run
  cold?: Run
  /** a Markdown link to the run page's section whose heading starts with `heading` */
  fig: (text: string, heading: string) => string
  runLink: string
  scale?: Scale
}

/** The planner's answer for one workload (`pnpm plan`), when the caller has one to show. */
export interface Scale {
  /** the workload, in words (plan-table.ts workloadLine) */
  workload: string
  plans: readonly ModePlan[]
}

// GitHub's heading anchors: lower case, punctuation dropped, each space a hyphen, repeats numbered.
export const slug = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-')

function anchors(r: Results): string[] {
  const seen = new Map<string, number>()
  const out: string[] = []
  for (const b of reportBlocks(r)) {
    if (b.kind !== 'h2' && b.kind !== 'h3') continue
    const s = slug(b.text)
    const n = seen.get(s) ?? 0
    seen.set(s, n + 1)
    out.push(`${b.text}\u0000${n ? `${s}-${n}` : s}`)
  }
  return out
}

export function context(r: Results, runLink: string, scale?: Scale): Ctx {
  const headings = anchors(r)
  const fig = (text: string, heading: string) => {
    const hit = headings.find((h) => h.startsWith(heading))
    return `[${text}](${runLink}${hit ? `#${hit.split('\u0000')[1]}` : ''})`
  }
  return { r, warm: decisionRun(r), wide: headlineRun(r), cold: headlineRun(r, 'cold'), fig, runLink, scale }
}

// Helpers the checks share.
export const mode = (run: Run | undefined, m: string): ModeRun | undefined =>
  run?.modes[m as keyof Run['modes']]
export const ratio = (run: Run | undefined, m: string): Estimate | undefined =>
  mode(run, m)?.sameWindow?.replicaCpu
/** The interval of `a` lies wholly above `b`'s: the run can tell them apart. */
export const above = (a: Estimate | undefined, b: Estimate | undefined) =>
  !!a && !!b && finite(a.lo) && finite(b.hi) && a.lo > b.hi
export const swCell = (run: Run | undefined, m: string) => {
  const x = mode(run, m)
  return x ? (m === 'none' ? '1.00×' : sameWindow(x)) : '–'
}
export const runDesc = (run: Run) => `${run.replicas} replica(s) per service, ${run.tokenProfile} tokens`
/** The bound a revocation probe measured, as a phrase. */
export function windowText(v: RevocationSummary | undefined): string {
  if (!v) return 'not probed'
  if (v.censored) return `accepted throughout the ${f0(v.windowMsMax / 1000)} s probe (until \`exp\`)`
  return v.windowMsMax === 0
    ? 'refused at once (p99 0 ms)'
    : `p99 ${f0(v.windowMsP99)} ms, max ${f0(v.windowMsMax)} ms`
}
export const instant = (v: RevocationSummary | undefined) => !!v && !v.censored && v.windowMsMax === 0
export const notMeasured = (what: string, by: string): Finding => ({
  verdict: 'not measured',
  short: by,
  because: `${what}: not measured in this run. ${by}`,
  figures: [],
  proof: [],
})
