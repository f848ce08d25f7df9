// The k6 scripts, which never run here (k6 is AGPL and authlab does not install it): they parse,
// import only k6 modules, jslib and loadtest/lib, type-check against @types/k6 (strict checkJs), and
// behave as they should when their k6 modules are fakes answering as auth and the replicas would.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { registerHooks } from 'node:module'
import { join } from 'node:path'
import { test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { CSRF_HEADER as CONTRACT_CSRF_HEADER, MODES as CONTRACT_MODES } from '@authlab/contract'
import ts from 'typescript'
import {
  CSRF_HEADER,
  durationSeconds,
  EVENTUAL_REVOCATION,
  IMMEDIATE_REVOCATION,
  loginsOf,
  MODES,
  modeFor,
  parseModes,
  tokenProfile,
} from '../lib/scenarios.js'

const ROOT = join(import.meta.dirname, '..')
const scripts = readdirSync(ROOT).filter((f) => f.endsWith('.js'))
const libs = readdirSync(join(ROOT, 'lib')).filter((f) => f.endsWith('.js'))
const k6Modules = /^k6(\/[a-z-]+)*$/
const JSLIB_SUMMARY = 'https://jslib.k6.io/k6-summary/0.1.0/index.js'

/** Every import of a file, from a real parse (TypeScript's parser reads plain JavaScript). */
function importsOf(path: string): { specifiers: string[]; diagnostics: string[] } {
  const text = readFileSync(path, 'utf8')
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS)
  const diagnostics = (file as unknown as { parseDiagnostics: ts.Diagnostic[] }).parseDiagnostics.map((d) =>
    ts.flattenDiagnosticMessageText(d.messageText, '\n'),
  )
  const specifiers = file.statements
    .filter((s): s is ts.ImportDeclaration => ts.isImportDeclaration(s))
    .map((s) => (s.moduleSpecifier as ts.StringLiteral).text)
  return { specifiers, diagnostics }
}

test('the k6 scripts are throughput.js, revocation.js and faults.js', () => {
  assert.deepEqual(scripts.sort(), ['faults.js', 'revocation.js', 'throughput.js'])
})

for (const script of scripts) {
  test(`${script} parses and imports only k6 modules and loadtest/lib`, () => {
    const { specifiers, diagnostics } = importsOf(join(ROOT, script))
    assert.deepEqual(diagnostics, [])
    assert.ok(specifiers.length > 0)
    for (const s of specifiers)
      assert.ok(k6Modules.test(s) || s.startsWith('./lib/'), `${script} imports ${s}`)
  })
}

for (const lib of libs) {
  test(`lib/${lib} parses and imports only k6 modules, the jslib summary and its siblings`, () => {
    const { specifiers, diagnostics } = importsOf(join(ROOT, 'lib', lib))
    assert.deepEqual(diagnostics, [])
    for (const s of specifiers)
      assert.ok(k6Modules.test(s) || s === JSLIB_SUMMARY || s.startsWith('./'), `lib/${lib} imports ${s}`)
  })
}

// --- The type check: loadtest/tsconfig.k6.json, strict checkJs against @types/k6 ---

const K6_CONFIG = join(ROOT, 'tsconfig.k6.json')

/** The diagnostics of the k6 project, with `probe` (a file that exists only in memory) added. */
function k6Diagnostics(probe?: { name: string; text: string }): string[] {
  const { config, error } = ts.readConfigFile(K6_CONFIG, ts.sys.readFile)
  assert.equal(error, undefined)
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, ROOT, undefined, K6_CONFIG)
  assert.deepEqual(parsed.errors, [])
  const host = ts.createCompilerHost(parsed.options)
  const rootNames = [...parsed.fileNames]
  if (probe) {
    const path = join(ROOT, probe.name)
    rootNames.push(path)
    const { getSourceFile, fileExists, readFile } = host
    host.fileExists = (f) => f === path || fileExists.call(host, f)
    host.readFile = (f) => (f === path ? probe.text : readFile.call(host, f))
    host.getSourceFile = (f, language, ...rest) =>
      f === path
        ? ts.createSourceFile(f, probe.text, language)
        : getSourceFile.call(host, f, language, ...rest)
  }
  const program = ts.createProgram({ rootNames, options: parsed.options, host })
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file
      ? `${d.file.fileName.slice(ROOT.length + 1)}(${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1})`
      : ''
    return `${where}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
  })
}

test('the k6 project type-checks every script and lib module, strictly, against @types/k6', () => {
  const { config } = ts.readConfigFile(K6_CONFIG, ts.sys.readFile)
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, ROOT, undefined, K6_CONFIG)
  const names = parsed.fileNames.map((f) => f.slice(ROOT.length + 1)).sort()
  assert.deepEqual(names, [...scripts, ...libs.map((l) => `lib/${l}`)].sort())
  assert.equal(parsed.options.checkJs, true)
  assert.equal(parsed.options.strict, true)
  assert.deepEqual(parsed.options.types, ['k6'])
  assert.deepEqual(k6Diagnostics(), [])
})

test('the k6 type check fails on a misused k6 API and on an untyped parameter', () => {
  const errors = k6Diagnostics({
    name: '__k6_type_probe__.js',
    text: [
      "import exec from 'k6/execution'",
      "import http from 'k6/http'",
      "http.get('http://127.0.0.1/', { timeout: true })",
      'export const name = exec.scenario.nam',
      'export function untyped(x) { return x }',
    ].join('\n'),
  })
  const probe = errors.filter((e) => e.startsWith('__k6_type_probe__.js'))
  assert.equal(probe.length, 3, errors.join('\n'))
  assert.ok(probe.some((e) => e.includes('TS2322') || e.includes('TS2769')))
  assert.ok(probe.some((e) => e.includes('TS2551') || e.includes('TS2339')))
  assert.ok(probe.some((e) => e.includes('TS7006')))
})

// --- lib/scenarios.js, the part of the scripts Node can run as it is ---

test('the shared scenario module names exactly the modes and the CSRF header of the contract', () => {
  assert.deepEqual([...MODES], [...CONTRACT_MODES])
  assert.equal(CSRF_HEADER, CONTRACT_CSRF_HEADER)
})

test('DURATION is read as a k6 duration: 2m is 120 s, not 2; a typo is an error', () => {
  const cases: [string, number][] = [
    ['30s', 30],
    ['2m', 120],
    ['1m30s', 90],
    ['1h', 3600],
    ['1500ms', 1.5],
    ['45', 45],
  ]
  for (const [text, seconds] of cases) assert.equal(durationSeconds(text), seconds, text)
  for (const bad of ['', '2 minutes', '5x', 'm']) assert.throws(() => durationSeconds(bad), /duration/, bad)
})

test('MODES and TOKEN_PROFILE name real modes and profiles; a typo is an error', () => {
  assert.deepEqual(parseModes(undefined), [...MODES])
  assert.deepEqual(parseModes('jwt, session'), ['jwt', 'session'])
  assert.throws(() => parseModes('jwt,jwtt'), /unknown mode "jwtt"/)
  assert.equal(tokenProfile('cold').logins, 150)
  assert.throws(() => tokenProfile('hot'), /warm or cold/)
})

test('a throughput iteration measures its scenario’s mode, and the modes in turn under a `default` scenario', () => {
  assert.equal(modeFor('session', MODES, 5), 'session')
  const turns = Array.from({ length: MODES.length }, (_, i) => modeFor('default', MODES, i))
  assert.deepEqual(turns, [...MODES])
})

test('each login is refreshed by one VU when there are enough logins, and shared VU by VU otherwise', () => {
  // cold: 150 logins, 50 VUs: 3 each, every login exactly once.
  const cold = Array.from({ length: 50 }, (_, v) => loginsOf(v + 1, 50, 150))
  assert.ok(cold.every((owned) => owned.length === 3))
  assert.deepEqual(
    cold.flat().sort((a, b) => a - b),
    Array.from({ length: 150 }, (_, i) => i),
  )
  // warm: 4 logins, 50 VUs: one login each, every login used.
  const warm = Array.from({ length: 50 }, (_, v) => loginsOf(v + 1, 50, 4))
  assert.ok(warm.every((owned) => owned.length === 1))
  assert.deepEqual([...new Set(warm.flat())].sort(), [0, 1, 2, 3])
  // A VU beyond the count k6 reported still gets a login of the pool.
  assert.deepEqual(loginsOf(51, 50, 150), loginsOf(1, 50, 150))
})

// --- The scripts themselves, with fake k6 modules ---

type Params = {
  headers?: Record<string, string>
  tags?: Record<string, string>
  timeout?: string | number
  responseType?: string
  jar?: unknown
  responseCallback?: unknown
}
type Sent = { method: string; url: string; body: string | null; params: Params; at: number; status?: number }
type Answer = { status: number; body?: unknown; headers?: Record<string, string> }

/** What a fake k6 records and how its http answers: one per test. */
class FakeK6 {
  sent: Sent[] = []
  metrics: { name: string; value: number | boolean; tags?: Record<string, string> | undefined }[] = []
  checks: { name: string; ok: boolean; tags?: object | undefined }[] = []
  clock = 1_000_000
  exec = {
    scenario: { name: 'default', iterationInTest: 0 },
    vu: { idInTest: 1, iterationInScenario: 0 },
    instance: { vusInitialized: 1 },
  }
  readonly answer: (req: Sent) => Answer
  readonly msPerRequest: number
  constructor(answer: (req: Sent) => Answer, msPerRequest = 0) {
    this.answer = answer
    this.msPerRequest = msPerRequest
  }

  request(method: string, url: string, body: string | null, params: Params = {}) {
    const req: Sent = { method, url, body, params, at: this.clock }
    this.sent.push(req)
    const a = this.answer(req)
    req.status = a.status
    this.clock += this.msPerRequest
    const text = a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body)
    return {
      status: a.status,
      headers: a.headers ?? {},
      body: params.responseType === 'text' ? text : null,
      request: { method, url },
    }
  }

  readonly http = {
    get: (url: string, params?: Params) => this.request('GET', url, null, params),
    post: (url: string, body: string | null, params?: Params) => this.request('POST', url, body, params),
    expectedStatuses: (...statuses: number[]) => ({ statuses }),
    setResponseCallback: () => {},
    CookieJar: class {},
  }

  check(value: unknown, sets: Record<string, (v: unknown) => boolean>, tags?: object) {
    let all = true
    for (const [name, fn] of Object.entries(sets)) {
      const ok = fn(value)
      this.checks.push({ name, ok, tags })
      all &&= ok
    }
    return all
  }

  fail(message?: string): never {
    throw new Error(message)
  }

  metric(name: string, value: number | boolean, tags?: Record<string, string>) {
    this.metrics.push({ name, value, tags })
  }

  count(name: string, tags: Record<string, string> = {}) {
    return this.metrics
      .filter((m) => m.name === name && Object.entries(tags).every(([k, v]) => m.tags?.[k] === v))
      .reduce((sum, m) => sum + Number(m.value), 0)
  }
}

const FAKE_MODULES: Record<string, string> = {
  k6: [
    'const k6 = () => globalThis.__k6',
    'export const check = (...a) => k6().check(...a)',
    'export const fail = (m) => k6().fail(m)',
    'export const sleep = () => {}',
  ].join('\n'),
  'k6/http': 'export default new Proxy({}, { get: (_, p) => globalThis.__k6.http[p] })',
  'k6/execution': 'export default new Proxy({}, { get: (_, p) => globalThis.__k6.exec[p] })',
  'k6/metrics': [
    'class Metric { constructor(name) { this.name = name } add(v, tags) { globalThis.__k6.metric(this.name, v, tags) } }',
    'export class Counter extends Metric {}',
    'export class Trend extends Metric {}',
    'export class Rate extends Metric {}',
  ].join('\n'),
  [JSLIB_SUMMARY]: "export const textSummary = () => 'K6 TEXT SUMMARY'",
}

registerHooks({
  resolve(specifier, context, next) {
    const fake = FAKE_MODULES[specifier]
    if (fake === undefined) return next(specifier, context)
    return { url: `data:text/javascript,${encodeURIComponent(fake)}`, shortCircuit: true }
  },
})

type Summary = { metrics: Record<string, { values: Record<string, number> }> }
type Script = {
  options: {
    discardResponseBodies?: boolean
    scenarios: Record<string, { startTime?: string; duration?: string; gracefulStop?: string }>
    thresholds: Record<string, string[]>
  }
  setup?: () => unknown
  default: (data?: unknown) => void
  teardown?: (data: unknown) => void
  handleSummary: (data: Summary) => Record<string, string>
}

let loaded = 0
/** A fresh instance of `script` (its module state too) with `env` as __ENV and `k6` as its k6. */
async function load(script: string, k6: FakeK6, env: Record<string, string> = {}): Promise<Script> {
  Reflect.set(globalThis, '__k6', k6)
  Reflect.set(globalThis, '__ENV', { BASE_URL: 'http://gw', ...env })
  Reflect.set(globalThis, '__VU', 1)
  Reflect.set(globalThis, '__ITER', 0)
  return (await import(`${pathToFileURL(join(ROOT, script)).href}?instance=${++loaded}`)) as Script
}

/** Runs `fn` with Date.now on the fake's clock and k6's error log silenced. */
function onClock<T>(k6: FakeK6, fn: () => T): T {
  const { now } = Date
  const { error } = console
  Date.now = () => k6.clock
  console.error = () => {}
  try {
    return fn()
  } finally {
    Date.now = now
    console.error = error
  }
}

/** What auth answers for register, login (user i: tokens a-i, r-i, session s-i) and refresh. */
function auth(req: Sent, refreshed: Record<string, Answer> = {}): Answer | undefined {
  const path = new URL(req.url).pathname
  if (path === '/auth/register') return { status: 201 }
  if (path === '/auth/login') {
    const i = (JSON.parse(req.body ?? '{}') as { email: string }).email.match(/-(\d+)@/)?.[1]
    return {
      status: 200,
      body: { accessToken: `a-${i}`, refreshToken: `r-${i}`, sessionId: `s-${i}`, user: { id: `u-${i}` } },
    }
  }
  if (path === '/auth/refresh') {
    const token = (JSON.parse(req.body ?? '{}') as { refreshToken: string }).refreshToken
    return refreshed[token] ?? { status: 401, body: { error: 'invalid' } }
  }
  return undefined
}

const seconds = (d: string | undefined) => durationSeconds(d ?? '0s')
const gets = (k6: FakeK6) => k6.sent.filter((r) => r.method === 'GET')

test('throughput.js: one scenario per mode, never overlapping; thresholds that can fail; bodies discarded', async () => {
  const { options } = await load('throughput.js', new FakeK6(() => ({ status: 200 })), { DURATION: '1m' })
  assert.deepEqual(Object.keys(options.scenarios), [...MODES])
  assert.equal(options.discardResponseBodies, true)
  const scenarios = Object.values(options.scenarios)
  for (const [i, s] of scenarios.entries()) {
    const next = scenarios[i + 1]
    if (!next) continue
    const gap = seconds(next.startTime) - seconds(s.startTime) - seconds(s.duration)
    assert.ok(seconds(s.gracefulStop) < gap, `gracefulStop ${s.gracefulStop} within the ${gap} s gap`)
  }
  const all = Object.values(options.thresholds).flat()
  assert.ok(!all.includes('count>0') && !all.some((t) => /p\(99\)<10000/.test(t)), all.join(', '))
  for (const mode of MODES) assert.deepEqual(options.thresholds[`checks{mode:${mode}}`], ['rate>0.99'])
  assert.deepEqual(options.thresholds.refresh_failures, ['count==0'])
})

test('throughput.js under `k6 run --duration` (a `default` scenario) sends every mode in turn, never /undefined/', async () => {
  const k6 = new FakeK6((req) => auth(req) ?? { status: 200 })
  const script = await load('throughput.js', k6)
  const data = onClock(k6, () => script.setup?.())
  for (let i = 0; i < 2 * MODES.length; i++) {
    k6.exec.scenario.iterationInTest = i
    k6.exec.vu.iterationInScenario = i
    script.default(data)
  }
  const paths = gets(k6).map((r) => new URL(r.url).pathname)
  assert.ok(!paths.some((p) => p.includes('undefined')), paths.join(' '))
  assert.deepEqual(new Set(paths.map((p) => p.split('/')[2])), new Set(MODES))
  assert.ok(gets(k6).every((r) => r.params.timeout !== undefined && r.params.tags?.mode))
  assert.ok(k6.sent.filter((r) => r.method === 'POST').every((r) => r.params.responseType === 'text'))
})

test('throughput.js refreshes an expired access token on its 401, sends again, and keeps the new one', async () => {
  const k6 = new FakeK6(
    (req) =>
      auth(req, { 'r-0': { status: 200, body: { accessToken: 'a-0-new', refreshToken: 'r-0-new' } } }) ?? {
        status: req.params.headers?.authorization === 'Bearer a-0' ? 401 : 200,
      },
  )
  const script = await load('throughput.js', k6, { MODES: 'jwt' })
  const data = onClock(k6, () => script.setup?.())
  k6.exec.scenario.name = 'jwt'
  k6.sent = []
  script.default(data)
  assert.deepEqual(
    k6.sent.map((r) => `${r.method} ${new URL(r.url).pathname} ${r.params.headers?.authorization ?? r.body}`),
    [
      'GET /orders/jwt/me Bearer a-0',
      'POST /auth/refresh {"refreshToken":"r-0"}',
      'GET /orders/jwt/me Bearer a-0-new',
    ],
  )
  assert.deepEqual(k6.checks.at(-1), { name: 'status 200', ok: true, tags: { mode: 'jwt' } })
  // The VU holds 4 logins (1 VU); its 5th iteration is login 0 again, with the new token.
  k6.sent = []
  k6.exec.vu.iterationInScenario = 4
  script.default(data)
  assert.deepEqual(
    k6.sent.map((r) => r.params.headers?.authorization),
    ['Bearer a-0-new'],
  )
  assert.equal(k6.count('refresh_failures'), 0)
})

test('throughput.js counts a refused refresh and fails the check instead of reusing the old credential', async () => {
  const k6 = new FakeK6((req) => auth(req) ?? { status: 401 })
  const script = await load('throughput.js', k6, { MODES: 'jwt' })
  const data = onClock(k6, () => script.setup?.())
  k6.exec.scenario.name = 'jwt'
  k6.sent = []
  onClock(k6, () => script.default(data))
  assert.equal(k6.count('refresh_failures', { status: '401' }), 1)
  assert.deepEqual(
    k6.sent.map((r) => `${r.method} ${new URL(r.url).pathname}`),
    ['GET /orders/jwt/me', 'POST /auth/refresh'],
  )
  assert.deepEqual(k6.checks.at(-1), { name: 'status 200', ok: false, tags: { mode: 'jwt' } })
})

test('throughput.js logs out in teardown with the refresh token, or the session where a VU rotated it; never an expired bearer', async () => {
  const k6 = new FakeK6((req) => {
    const answer = auth(req)
    if (answer) return answer
    if (new URL(req.url).pathname !== '/auth/logout-all') return { status: 200 }
    // Login 0's refresh token was rotated by a VU during the run: spent.
    if (req.body?.includes('"r-0"')) return { status: 401 }
    return { status: 204 }
  })
  const script = await load('throughput.js', k6, { MODES: 'jwt' })
  const data = onClock(k6, () => script.setup?.())
  k6.sent = []
  onClock(k6, () => script.teardown?.(data))
  const logouts = k6.sent.filter((r) => r.url.endsWith('/auth/logout-all'))
  assert.ok(logouts.every((r) => r.params.headers?.authorization === undefined))
  assert.deepEqual(
    logouts.map((r) => r.body ?? r.params.headers?.cookie),
    [
      '{"refreshToken":"r-0"}',
      'sid=s-0; __Host-sid=s-0',
      '{"refreshToken":"r-1"}',
      '{"refreshToken":"r-2"}',
      '{"refreshToken":"r-3"}',
    ],
  )
  assert.equal(logouts[1]?.params.headers?.[CSRF_HEADER], '1')
  assert.ok(k6.checks.every((c) => c.ok))
})

test('throughput.js prints k6’s own summary with its per-mode table, and writes the JSON to SUMMARY_DIR', async () => {
  const script = await load('throughput.js', new FakeK6(() => ({ status: 200 })), {
    MODES: 'jwt,session',
    SUMMARY_DIR: '/out/',
  })
  const out = script.handleSummary({
    metrics: {
      'http_req_duration{mode:jwt}': { values: { count: 120, med: 1.25, 'p(95)': 3, 'p(99)': 4 } },
      'checks{mode:jwt}': { values: { rate: 1 } },
    },
  })
  assert.deepEqual(Object.keys(out).sort(), ['/out/throughput-warm-summary.json', 'stdout'])
  assert.match(out.stdout ?? '', /^K6 TEXT SUMMARY\n/)
  assert.match(out.stdout ?? '', /\njwt \| 120 \| 100\.00 % \| 1\.3 \| 3\.0 \| 4\.0\n/)
  assert.match(out.stdout ?? '', /\nsession \| – \| – \| – \| – \| –\n/, 'not measured is –, not 0')
})

/** A revocation trial's answers: 200 before logout-all; after it, as `after` says. */
function revocationAnswers(after: (mode: string, msAfter: number) => number, before = () => 200) {
  let revokedAt: number | undefined
  return (k6: FakeK6) => (req: Sent) => {
    const answer = auth(req)
    if (answer) return answer
    const path = new URL(req.url).pathname
    if (path === '/auth/logout-all') {
      revokedAt = k6.clock
      return { status: 204 }
    }
    const mode = path.split('/')[2] ?? ''
    return { status: revokedAt === undefined ? before() : after(mode, req.at - revokedAt) }
  }
}

test('revocation.js: thresholds that fail when nothing was refused, on any error, or when the pre-revoke round failed', async () => {
  const { options } = await load('revocation.js', new FakeK6(() => ({ status: 200 })))
  assert.deepEqual(options.thresholds.rejected_before_revoke, ['count==0'])
  assert.deepEqual(options.thresholds.errors_after_revoke, ['count==0'])
  for (const mode of [...IMMEDIATE_REVOCATION, ...EVENTUAL_REVOCATION])
    assert.deepEqual(options.thresholds[`refused_after_revoke{mode:${mode}}`], ['count>0'])
  for (const mode of IMMEDIATE_REVOCATION)
    assert.deepEqual(options.thresholds[`accepted_after_revoke{mode:${mode}}`], ['count==0'])
})

test('revocation.js times each accepted request from its own start; only a 401 is a refusal, a 503 is an error', async () => {
  let k6!: FakeK6
  const answers = revocationAnswers((mode, msAfter) => {
    if (mode === 'jwt') return 200
    if (mode === 'session-cached') return msAfter < 1000 ? 200 : 401
    if (mode === 'jwt-pushed' && msAfter < 100) return 503
    return 401
  })
  k6 = new FakeK6((req) => answers(k6)(req), 7)
  const script = await load('revocation.js', k6)
  onClock(k6, () => script.default())
  const cached = gets(k6).filter((r) => r.url.includes('/session-cached/'))
  // From when logout-all returned: its request took the fake's 7 ms.
  const revokedAt = (k6.sent.find((r) => r.url.endsWith('/logout-all'))?.at ?? 0) + 7
  const lastAccepted = Math.max(
    ...cached
      .filter((r) => r.status === 200)
      .map((r) => r.at - revokedAt)
      .filter((ms) => ms >= 0),
  )
  const windows = k6.metrics.filter((m) => m.name === 'revocation_window_ms')
  assert.deepEqual(windows.find((m) => m.tags?.mode === 'session-cached')?.value, lastAccepted)
  assert.deepEqual(windows.find((m) => m.tags?.mode === 'jwt-pushed')?.value, 0)
  assert.ok(k6.count('accepted_after_revoke', { mode: 'session-cached' }) > 0)
  assert.equal(k6.count('accepted_after_revoke', { mode: 'session' }), 0)
  assert.ok(k6.count('errors_after_revoke', { mode: 'jwt-pushed', status: '503' }) > 0)
  const pushedRefused = k6.count('refused_after_revoke', { mode: 'jwt-pushed' })
  const pushedSent = gets(k6).filter((r) => r.url.includes('/jwt-pushed/') && r.at >= revokedAt).length
  assert.equal(pushedRefused + k6.count('errors_after_revoke', { mode: 'jwt-pushed' }), pushedSent)
  assert.equal(k6.count('refused_after_revoke', { mode: 'jwt' }), 0)
})

test('revocation.js fails a trial whose credential was not accepted before logout-all, and still logs it out', async () => {
  let k6!: FakeK6
  const answers = revocationAnswers(
    () => 401,
    () => 503,
  )
  k6 = new FakeK6((req) => answers(k6)(req), 1)
  const script = await load('revocation.js', k6)
  assert.throws(() => onClock(k6, () => script.default()), /not accepted/)
  assert.ok(k6.count('rejected_before_revoke', { status: '503' }) > 0)
  assert.ok(k6.sent.some((r) => r.url.endsWith('/auth/logout-all')))
  assert.equal(k6.count('refused_after_revoke'), 0)
})

test('faults.js: a threshold on the revoked credential, a per-mode table of answers, k6’s own summary', async () => {
  const k6 = new FakeK6((req) => {
    const answer = auth(req)
    if (answer) return answer
    if (req.url.endsWith('/auth/logout-all')) return { status: 204 }
    // The revoked user (login 1) is wrongly accepted by session; every other request: 503.
    if (req.params.headers?.cookie?.includes('s-1'))
      return { status: req.url.includes('/session/') ? 200 : 401 }
    return { status: 503 }
  })
  const script = await load('faults.js', k6)
  const revoking = MODES.filter((m) => m !== 'none' && m !== 'jwt')
  assert.deepEqual(
    Object.keys(script.options.thresholds).sort(),
    revoking.map((m) => `revoked_accepted{mode:${m}}`).sort(),
  )
  assert.equal(script.options.discardResponseBodies, true)
  const data = onClock(k6, () => script.setup?.())
  for (let i = 0; i < 4 * MODES.length; i++) {
    k6.exec.scenario.iterationInTest = i
    script.default(data)
  }
  assert.equal(k6.count('revoked_accepted', { mode: 'session' }), 1)
  assert.equal(k6.count('answers_jwt_denylist_503'), 3)
  assert.equal(k6.count('responses', { mode: 'introspect', status: '503' }), 3)
  const out = script.handleSummary({
    metrics: {
      answers_session_200: { values: { count: 5 } },
      answers_session_503: { values: { count: 2 } },
      'revoked_accepted{mode:session}': { values: { count: 1 } },
    },
  })
  assert.match(out.stdout ?? '', /^K6 TEXT SUMMARY\n/)
  assert.match(out.stdout ?? '', /\nsession \| 5 \| 0 \| 2 \| 0 \| 1\n/)
  assert.match(out.stdout ?? '', /\njwt \| 0 \| 0 \| 0 \| 0 \| –\n/)
})
