/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The functions passed to page.evaluate run in the browser.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { pathToFileURL } from 'node:url'
import puppeteer from 'puppeteer-core'
import { renderHtml } from '../src/report.ts'
import { synthetic, withSameWindow } from './fixtures.ts'

// Debian's chromium (scripts/setup.sh installs it), driven over CDP; puppeteer-core brings no browser.
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p))

test('report.html in headless Chromium: no NaN, every chart drawn with a size, the trade-off chart before the first table', async (t) => {
  assert.ok(CHROMIUM, 'chromium is installed (apt-get install chromium)')
  const dir = await mkdtemp(join(tmpdir(), 'authlab-report-'))
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in CI containers has no user namespaces for chromium's sandbox.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  })
  t.after(async () => {
    await browser.close()
    await rm(dir, { recursive: true, force: true })
  })
  const file = join(dir, 'report.html')
  await writeFile(file, renderHtml(withSameWindow(synthetic())))
  const page = await browser.newPage()
  await page.setViewport({ width: 1100, height: 900 })
  await page.goto(pathToFileURL(file).href)
  const seen = await page.evaluate(() => {
    const figures = [...document.querySelectorAll('figure')]
    const firstTable = document.querySelector('table')!
    const tradeoff = document.querySelector('figure[data-chart="tradeoff"]')!
    return {
      text: document.body.textContent ?? '',
      charts: figures.map((f) => {
        const svg = f.querySelector('svg')!
        const box = svg.getBoundingClientRect()
        return {
          name: f.dataset.chart,
          width: box.width,
          height: box.height,
          shapes: svg.querySelectorAll('circle, rect, polyline, path').length,
          labels: svg.querySelectorAll('text').length,
        }
      }),
      tradeoffFirst: Boolean(tradeoff.compareDocumentPosition(firstTable) & Node.DOCUMENT_POSITION_FOLLOWING),
    }
  })
  assert.doesNotMatch(seen.text, /NaN|undefined|Infinity/)
  assert.ok(seen.charts.length >= 8, `${seen.charts.length} charts`)
  for (const c of seen.charts) {
    assert.ok(c.width > 300 && c.height > 60, `${c.name} has a size: ${c.width}×${c.height}`)
    assert.ok(c.shapes > 3 && c.labels > 3, `${c.name} draws marks and labels`)
  }
  assert.equal(seen.tradeoffFirst, true, 'the trade-off chart comes before the first table')
  if (process.env.REPORT_SCREENSHOT)
    await page.screenshot({ path: process.env.REPORT_SCREENSHOT, fullPage: true })
})
