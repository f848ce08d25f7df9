import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { DocumentedDefault } from '@authlab/service-kit'
import {
  configVariables,
  ENV_EXAMPLE_PATH,
  PAGE_PATH,
  renderConfigurationPage,
  renderEnvExample,
  SERVICE_SCHEMAS,
  type ServiceSchema,
} from '../src/page.ts'

/** Where two texts first differ, as a line number and both lines. */
function firstDifference(actual: string, expected: string): string {
  const a = actual.split('\n')
  const e = expected.split('\n')
  const line = e.findIndex((text, i) => a[i] !== text)
  const at = line === -1 ? e.length : line
  return `line ${at + 1}: the file has ${JSON.stringify(a[at] ?? '(nothing)')}, the schemas give ${JSON.stringify(e[at] ?? '(nothing)')}`
}

function row(page: string, name: string): string[] {
  const rows = page.split('\n').filter((line) => line.startsWith(`| \`${name}\` |`))
  assert.equal(rows.length, 1, `${name} has one row`)
  return rows[0]!.split(' | ').map((cell) => cell.replace(/^\| | \|$/g, ''))
}

for (const [file, path, render] of [
  ['docs/configuration.md', PAGE_PATH, renderConfigurationPage],
  ['.env.example', ENV_EXAMPLE_PATH, renderEnvExample],
] as const) {
  test(`${file} is what the config schemas generate`, () => {
    const expected = render()
    let actual = ''
    try {
      actual = readFileSync(path, 'utf8')
    } catch {}
    if (actual !== expected) {
      assert.fail(
        `${file} is not what the config schemas generate (${firstDifference(actual, expected)}): run \`pnpm docs:config\``,
      )
    }
  })
}

test('every configuration variable has a description in its schema', () => {
  const undescribed = SERVICE_SCHEMAS.flatMap(({ services, schema }) =>
    Object.entries(schema.properties)
      .filter(([, property]) => !(property as { description?: string }).description?.trim())
      .map(([name]) => `${name} (${services.join(', ')})`),
  )
  assert.deepEqual(undescribed, [], 'give each a `description` in its TypeBox schema')
})

test('a variable several services read has one row naming them all, with per-service defaults', () => {
  const page = renderConfigurationPage()
  const names = configVariables().map((variable) => variable.name)
  assert.equal(new Set(names).size, names.length)
  assert.equal(row(page, 'REDIS_URL')[3], 'auth, orders, profile')
  assert.equal(row(page, 'DATABASE_URL')[3], 'auth')
  assert.equal(row(page, 'EXPOSE_REPLICA')[3], 'orders, profile')
  assert.equal(row(page, 'PORT')[1], '`3000` (auth), `3001` (orders, profile)')
})

test("a default computed on the machine is named in words, never the machine's value", () => {
  const schemas: ServiceSchema[] = [
    {
      services: ['svc'],
      schema: {
        properties: {
          NAME: {
            type: 'string',
            default: 'this-machine',
            [DocumentedDefault]: 'the host name',
            description: 'd',
          },
        },
        required: ['NAME'],
      },
    },
  ]
  const page = renderConfigurationPage(schemas)
  assert.equal(row(page, 'NAME')[1], 'the host name')
  assert.ok(!page.includes('this-machine'))
  assert.equal(row(renderConfigurationPage(), 'REPLICA_ID')[1], 'the host name')
})

test('a shared variable described differently by two services is refused', () => {
  const schema = (description: string) => ({
    properties: { SHARED: { type: 'integer', default: 1, description } },
    required: ['SHARED'],
  })
  assert.throws(
    () =>
      renderConfigurationPage([
        { services: ['a'], schema: schema('one meaning') },
        { services: ['b'], schema: schema('another') },
      ]),
    /SHARED is described differently/,
  )
})

test('.env.example sets every variable once: its default, or empty where there is no one literal default', () => {
  const lines = renderEnvExample().split('\n')
  for (const line of lines) {
    assert.ok(line === '' || line.startsWith('#') || /^[A-Z][A-Z0-9_]*=/.test(line), `a .env line: ${line}`)
    assert.ok(line.length <= 100 || !line.startsWith('#'), `a short comment: ${line}`)
  }
  const values = new Map(
    lines
      .filter((line) => /^[A-Z]/.test(line))
      .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
  )
  const names = configVariables().map((variable) => variable.name)
  assert.deepEqual([...values.keys()], names, 'every variable, once, in the page order')
  assert.equal(values.get('HOST'), '127.0.0.1')
  assert.equal(values.get('LOG_LEVEL'), 'info')
  assert.equal(values.get('COOKIE_SECURE'), 'false')
  assert.equal(values.get('TRUST_PROXY'), '127.0.0.1,::1')
  assert.equal(values.get('REDIS_SENTINELS'), '', 'an empty default')
  assert.equal(values.get('PORT'), '', 'the services differ: 3000 and 3001')
  assert.equal(values.get('REPLICA_ID'), '', 'computed on the machine')
  assert.equal(values.get('JWT_PRIVATE_KEY'), '', 'no default')
  assert.equal(values.get('DATABASE_MIGRATION_URL'), '', 'no default: auth refuses to start with it set')
  const blocks = renderEnvExample().split('\n\n')
  const port = blocks.find((block) => block.endsWith('\nPORT=')) ?? ''
  assert.match(port.replaceAll('\n# ', ' '), /default: 3000 \(auth\), 3001 \(orders, profile\)\nPORT=$/)
})

test('.env.example quotes a default that a bare .env value cannot hold, and describes each variable', () => {
  const schemas: ServiceSchema[] = [
    {
      services: ['svc'],
      schema: {
        properties: {
          SPACED: { type: 'string', default: 'a b #c', description: 'A `spaced` value.' },
          NAME: {
            type: 'string',
            default: 'this-machine',
            [DocumentedDefault]: 'the host name',
            description: 'd',
          },
        },
        required: ['SPACED', 'NAME'],
      },
    },
  ]
  const file = renderEnvExample(schemas)
  assert.match(
    file,
    /# A `spaced` value\.\n# Read by svc; allowed: string; default: a b #c\nSPACED='a b #c'\n/,
  )
  assert.match(file, /default: the host name\nNAME=\n/)
  assert.ok(!file.includes('this-machine'))
})
