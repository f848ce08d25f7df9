import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { test } from 'node:test'
import { MODES as CONTRACT_MODES } from '@authlab/contract'
import ts from 'typescript'
import { durationSeconds, MODES } from '../lib/scenarios.js'

const ROOT = new URL('../', import.meta.url)
const scripts = readdirSync(ROOT).filter((f) => f.endsWith('.js'))
const k6Modules = /^k6(\/[a-z-]+)*$/

/** Every import of a file, from a real parse (TypeScript's parser reads plain JavaScript). */
function importsOf(path: URL): { specifiers: string[]; diagnostics: string[] } {
  const text = readFileSync(path, 'utf8')
  const file = ts.createSourceFile(path.pathname, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS)
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
    const { specifiers, diagnostics } = importsOf(new URL(script, ROOT))
    assert.deepEqual(diagnostics, [])
    assert.ok(specifiers.length > 0)
    for (const s of specifiers)
      assert.ok(k6Modules.test(s) || s.startsWith('./lib/'), `${script} imports ${s}`)
  })
}

for (const lib of readdirSync(new URL('lib/', ROOT)).filter((f) => f.endsWith('.js'))) {
  test(`lib/${lib} parses and imports only k6 modules and its siblings`, () => {
    const { specifiers, diagnostics } = importsOf(new URL(`lib/${lib}`, ROOT))
    assert.deepEqual(diagnostics, [])
    for (const s of specifiers) assert.ok(k6Modules.test(s) || s.startsWith('./'), `lib/${lib} imports ${s}`)
  })
}

test('the shared scenario module names exactly the modes of the contract', () => {
  assert.deepEqual([...MODES], [...CONTRACT_MODES])
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
