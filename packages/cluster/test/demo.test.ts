/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The functions passed to page.evaluate/waitForFunction run in the browser.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { after, before, test } from 'node:test'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import { type Cluster, startCluster } from '../src/index.ts'

// Debian's chromium (scripts/setup.sh installs it), driven over CDP; puppeteer-core brings no browser.
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p))
const SCREENSHOT = process.env.DEMO_SCREENSHOT

let cluster: Cluster
let browser: Browser
before(async () => {
  assert.ok(CHROMIUM, 'chromium is installed (apt-get install chromium)')
  cluster = await startCluster({ replicas: 2, port: 0, env: { SESSION_CACHE_TTL_MS: '2000' } })
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in CI containers has no user namespaces for chromium's sandbox.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  })
})
after(async () => {
  await browser?.close()
  await cluster?.close()
})

type Row = { mode: string; state: string; windowMs: string | undefined; cells: string[] }
const rows = (page: Page): Promise<Row[]> =>
  page.$$eval('#rows tr', (trs) =>
    trs.map((tr) => ({
      mode: (tr as HTMLElement).dataset.mode ?? '',
      state: (tr as HTMLElement).dataset.state ?? '',
      windowMs: (tr as HTMLElement).dataset.windowMs,
      cells: [...tr.querySelectorAll('td.cell')].map((td) => td.className),
    })),
  )

test('the demo page: logged in, every mode accepts on every replica; after logout-all each mode turns at its own moment and jwt keeps accepting', async () => {
  const page = await browser.newPage()
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(String(err)))
  page.on('console', (msg) => {
    // The browser logs every 401 it fetched as "Failed to load resource": expected here. A CSP
    // violation ("Refused to …") or a script error is not.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) errors.push(msg.text())
  })
  await page.setViewport({ width: 1200, height: 640 })
  const res = await page.goto(`${cluster.url}/demo/`)
  assert.equal(res?.status(), 200)
  assert.match(res?.headers()['content-security-policy'] ?? '', /script-src 'self'/)

  await page.click('#new-user')
  // Bounded: both replicas of orders seen accepting in every mode.
  await page.waitForFunction(
    () => {
      const trs = [...document.querySelectorAll('#rows tr')] as HTMLElement[]
      return (
        trs.length === 6 &&
        trs.every((tr) => tr.dataset.state === 'accepted' && tr.querySelectorAll('td.cell.ok').length === 2)
      )
    },
    { timeout: 15_000 },
  )
  // The session cookie is HttpOnly: the page's script cannot read it, yet the cookie modes work.
  assert.equal(await page.evaluate(() => document.cookie.includes('sid=')), false)

  await page.click('#logout-all')
  await page.waitForFunction(() => document.body.dataset.revoked === 'true', { timeout: 5_000 })
  // Every revocable mode refused on both replicas, within a bounded wait (session-cached: its TTL).
  await page.waitForFunction(
    () =>
      ['session', 'session-cached', 'jwt-denylist', 'jwt-pushed', 'introspect'].every((mode) => {
        const tr = document.querySelector(`#rows tr[data-mode="${mode}"]`) as HTMLElement | null
        return tr?.dataset.state === 'refused' && tr.querySelectorAll('td.cell.refused').length === 2
      }),
    { timeout: 15_000 },
  )
  // Let the page show a few more rounds: jwt must still be accepted everywhere.
  await new Promise((r) => setTimeout(r, 500))
  const after = await rows(page)
  const byMode = new Map(after.map((r) => [r.mode, r]))
  assert.equal(byMode.get('jwt')?.state, 'accepted', 'plain jwt is valid until it expires')
  assert.deepEqual(byMode.get('jwt')?.cells, ['cell ok', 'cell ok'])
  for (const mode of ['session', 'jwt-denylist', 'introspect', 'session-cached', 'jwt-pushed']) {
    const row = byMode.get(mode)
    assert.equal(row?.state, 'refused', mode)
    assert.ok(row?.windowMs !== undefined && Number(row.windowMs) >= 0, `${mode} shows its measured window`)
  }
  // Modes that check Redis (or auth) on every request accept nothing once logout-all has answered.
  for (const mode of ['session', 'jwt-denylist', 'introspect'])
    assert.equal(byMode.get(mode)?.windowMs, '0', mode)
  assert.deepEqual(errors, [], 'no script error and no CSP violation on the page')
  if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT })
})
