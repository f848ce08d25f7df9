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
  if (SCREENSHOT) {
    // The board only, as docs/operations.md shows it; the sessions panel below has its own shot.
    const bottom = await page.$eval('#board', (el) => el.getBoundingClientRect().bottom)
    await page.screenshot({
      path: SCREENSHOT,
      clip: { x: 0, y: 0, width: 1200, height: Math.ceil(bottom) + 24 },
    })
  }
})

type SessionRow = { id: string; current: string; text: string; canEnd: boolean }
const sessionRows = (page: Page): Promise<SessionRow[]> =>
  page.$$eval('#sessions tr', (trs) =>
    trs.map((tr) => ({
      id: (tr as HTMLElement).dataset.id ?? '',
      current: (tr as HTMLElement).dataset.current ?? '',
      text: tr.textContent ?? '',
      canEnd: tr.querySelector('button.end') !== null,
    })),
  )

test('the demo page lists both logins of its user with its own marked; ending the other from the page, or logging out the others, revokes them and keeps its own', async () => {
  const email = `demo-sessions-${crypto.randomUUID()}@example.test`
  const password = crypto.randomUUID()
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${cluster.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })
  assert.equal((await post('/auth/register', { email, password })).status, 201)
  // The other device: a login from this test, with a user agent of its own.
  const other = await post('/auth/login', { email, password }, { 'user-agent': 'another-device/1.0' })
  assert.equal(other.status, 200)
  const { accessToken } = (await other.json()) as { accessToken: string }
  const me = (token: string) =>
    fetch(`${cluster.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } })
  assert.equal((await me(accessToken)).status, 200)

  // A context of its own: none of the first test's cookies or cached files.
  const context = await browser.createBrowserContext()
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(String(err)))
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) errors.push(msg.text())
  })
  await page.setViewport({ width: 1200, height: 640 })
  assert.equal((await page.goto(`${cluster.url}/demo/`))?.status(), 200)
  await page.type('#login input[name=email]', email)
  await page.type('#login input[name=password]', password)
  await page.click('#login button[type=submit]')

  await page.waitForFunction(() => document.querySelectorAll('#sessions tr').length === 2, {
    timeout: 10_000,
  })
  assert.equal(await page.$eval('#me', (el) => el.textContent), email)
  const listed = await sessionRows(page)
  const mine = listed.filter((r) => r.current === 'true')
  const others = listed.filter((r) => r.current === 'false')
  assert.equal(mine.length, 1, 'exactly one session is marked current')
  assert.match(mine[0]?.text ?? '', /this browser/)
  assert.match(mine[0]?.text ?? '', /HeadlessChrome/)
  assert.equal(mine[0]?.canEnd, false, 'the current session has no end button')
  assert.equal(others.length, 1)
  assert.match(others[0]?.text ?? '', /another-device\/1\.0/)
  assert.equal(others[0]?.canEnd, true)

  // The panel as the docs show it: two logins, this browser's marked, the other with its end button.
  if (SCREENSHOT) {
    const box = await (await page.$('#account'))?.boundingBox()
    assert.ok(box)
    await page.screenshot({
      path: SCREENSHOT.replace(/\.png$/, '-sessions.png'),
      clip: { x: box.x - 24, y: box.y - 16, width: box.width + 48, height: box.height + 32 },
    })
  }

  await page.click(`#sessions tr[data-id="${others[0]?.id}"] button.end`)
  await page.waitForFunction(
    () =>
      document.querySelectorAll('#sessions tr').length === 1 &&
      document.querySelector('#sessions-status')?.textContent?.startsWith('Ended session'),
    { timeout: 10_000 },
  )
  assert.deepEqual(
    (await sessionRows(page)).map((r) => [r.id, r.current]),
    [[mine[0]?.id, 'true']],
  )
  assert.equal(await page.$eval('#logout-others', (el) => (el as HTMLButtonElement).disabled), true)
  // The ended login's access token is refused by auth.
  const refused = await me(accessToken)
  assert.equal(refused.status, 401)
  assert.equal(((await refused.json()) as { code: string }).code, 'AUTHLAB_UNAUTHENTICATED')

  // A third login appears on refresh; "log out other sessions" ends it and keeps the page's own.
  const third = await post('/auth/login', { email, password }, { 'user-agent': 'third-device/1.0' })
  assert.equal(third.status, 200)
  const thirdToken = ((await third.json()) as { accessToken: string }).accessToken
  await page.click('#refresh-sessions')
  await page.waitForFunction(() => document.querySelectorAll('#sessions tr').length === 2, {
    timeout: 10_000,
  })
  assert.match((await sessionRows(page)).find((r) => r.current === 'false')?.text ?? '', /third-device/)
  await page.click('#logout-others')
  await page.waitForFunction(
    () =>
      document.querySelectorAll('#sessions tr').length === 1 &&
      document.querySelector('#sessions-status')?.textContent?.startsWith('Logged out every other session'),
    { timeout: 10_000 },
  )
  assert.deepEqual(
    (await sessionRows(page)).map((r) => [r.id, r.current]),
    [[mine[0]?.id, 'true']],
  )
  assert.equal((await me(thirdToken)).status, 401)
  // The page's own login is still live: its cookie still answers /auth/me.
  assert.equal(
    await page.evaluate(async () => (await fetch('/auth/me', { credentials: 'same-origin' })).status),
    200,
  )
  assert.deepEqual(errors, [], 'no script error and no CSP violation on the page')
  await context.close()
})
