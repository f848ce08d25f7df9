// The bench report: sections in reading order, each a function of results.json. The trade-off
// comes first, then the decision table, then the depth.
import type { Results, TopologyFailover } from '../results.ts'
import { htmlDocument } from './html.ts'
import { type MarkdownOptions, markdown } from './markdown.ts'
import type { Block, Section } from './model.ts'
import { capacity } from './sections/capacity.ts'
import { cold, cost, costTableBlock } from './sections/cost.ts'
import { decision } from './sections/decision.ts'
import { failover, topologyBlocks } from './sections/failover.ts'
import { faults } from './sections/faults.ts'
import { findings } from './sections/findings.ts'
import { header } from './sections/header.ts'
import { method } from './sections/method.ts'
import { algorithms, network } from './sections/network.ts'
import { phantom } from './sections/phantom.ts'
import { replicas } from './sections/replicas.ts'
import { revocation } from './sections/revocation.ts'
import { size } from './sections/size.ts'
import { storage } from './sections/storage.ts'
import { textbook } from './sections/textbook.ts'
import { throughput } from './sections/throughput.ts'
import { tokenLifetime } from './sections/token-lifetime.ts'
import { tradeoff } from './sections/tradeoff.ts'

export { headlineRun } from './format.ts'
export type { Block, Chart } from './model.ts'
export { decisionTable } from './sections/decision.ts'
export { findingsList as findings } from './sections/findings.ts'
export { summary } from './sections/header.ts'
export { tutorialLacks, tutorialMarkdown, tutorialTable } from './sections/textbook.ts'
export { TRADEOFF_CAPTION, tradeoffSvg } from './sections/tradeoff.ts'

const SECTIONS: Section<Results>[] = [
  header,
  tradeoff,
  decision,
  cost,
  replicas,
  cold,
  phantom,
  textbook,
  findings,
  throughput,
  network,
  revocation,
  storage,
  size,
  tokenLifetime,
  faults,
  failover,
  algorithms,
  capacity,
  method,
]

export function reportBlocks(r: Results): Block[] {
  return SECTIONS.flatMap((section) => section(r))
}

/** One run's cost table (the bench prints it at the end). */
export function costTable(run: Results['runs'][number]): string {
  return markdown([costTableBlock(run)])
}

export function renderMarkdown(r: Results, opts: MarkdownOptions = {}): string {
  return `${markdown(reportBlocks(r), opts)}\n`
}

export function renderHtml(r: Results): string {
  return htmlDocument(`authlab bench ${r.startedAt}`, reportBlocks(r))
}

/** The failover table alone, as `pnpm failover` writes it. */
export function renderTopologiesMarkdown(runs: readonly TopologyFailover[]): string {
  return markdown(topologyBlocks(runs))
}
