// docs/choosing.md: every claim the introductory articles make about sessions and JWT, restated, with
// the figure a published run measured beside it and a verdict computed from those figures. Written by
// `publish.ts` with the README's block, so no figure on the page is typed by hand.
import type { Results } from '../results.ts'
import { type Claim, type Ctx, context, LABEL, type Scale, slug } from './choosing/context.ts'
import { OTHER_CLAIMS } from './choosing/other-claims.ts'
import { TABLE_CLAIMS } from './choosing/table-claims.ts'

export type { Claim, Finding, Scale, Verdict } from './choosing/context.ts'

/** Every claim, in the articles' order: the table's rows, then the other claims. */
export const CLAIMS: readonly Claim[] = [...TABLE_CLAIMS, ...OTHER_CLAIMS]

function claimSection(c: Ctx, claim: Claim, i: number): string[] {
  const f = claim.check(c)
  const list = (head: string, items: string[]) =>
    items.length ? [`**${head}**`, '', ...items.map((x) => `- ${x}`), ''] : []
  return [
    `## ${i + 1}. ${claim.title}`,
    '',
    `**The claim.** ${claim.said}`,
    '',
    `**Verdict: ${LABEL[f.verdict]}${f.fromCode ? ', from the code (no figure measures it)' : ''}.** ${f.because}`,
    '',
    ...list('Measured', f.figures),
    ...list('Where authlab proves it', f.proof),
  ]
}

function intro(c: Ctx): string[] {
  const r = c.r
  return [
    "# Choosing: the articles' claims, checked",
    '',
    'Introductory articles on "sessions vs JWT" end with a comparison table and a few rules of thumb. ' +
      'This page restates each of them and sets beside it what authlab measured, with a verdict: it holds, ' +
      'it holds only under a condition (named), or it does not hold. Some claims are not about a number; ' +
      'those are answered from what the code does, and say so.',
    '',
    `Every figure links to [the ${r.profile} run of ${r.startedAt.slice(0, 10)}](${c.runLink}) (seed ${r.seed}${r.commit ? `, commit ${r.commit}` : ''}), ` +
      'where its table and the method behind it are. The verdicts are computed from that run by `loadtest/src/report/choosing.ts` ' +
      'and the page is rewritten with every published run (`pnpm bench --publish`). Compare modes within the run, not with figures from elsewhere.',
    '',
  ]
}

function summary(c: Ctx): string[] {
  const rows = CLAIMS.map((claim, i) => {
    const f = claim.check(c)
    const anchor = slug(`${i + 1}. ${claim.title}`)
    const from = f.fromCode ? ' (from the code)' : ''
    return `| [${claim.title}](#${anchor}) | ${LABEL[f.verdict]}${from} | ${f.short} |`
  })
  return ['| claim | verdict | in short |', '| - | - | - |', ...rows, '']
}

/**
 * docs/choosing.md for a run published at `runLink` (relative to docs/); `scale`, the planner's
 * answer for a workload, fills the at-scale figures ("not measured" without it).
 */
export function choosingPage(r: Results, runLink: string, scale?: Scale): string {
  const c = context(r, runLink, scale)
  const body = CLAIMS.flatMap((claim, i) => claimSection(c, claim, i))
  return `${[...intro(c), ...summary(c), ...body].join('\n').trimEnd()}\n`
}
