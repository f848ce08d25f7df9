// The report's public surface; its parts live in report/ (model, sections, charts, renderers).

export type { Block, Chart } from './report/index.ts'
export {
  costTable,
  decisionTable,
  findings,
  headlineRun,
  renderHtml,
  renderMarkdown,
  renderTopologiesMarkdown,
  reportBlocks,
  summary,
  TRADEOFF_CAPTION,
  tradeoffSvg,
  tutorialLacks,
  tutorialMarkdown,
  tutorialTable,
} from './report/index.ts'
