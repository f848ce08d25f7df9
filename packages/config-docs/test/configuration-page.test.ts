import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { DocumentedDefault } from '@authlab/config'
import {
  configVariables,
  PAGE_PATH,
  renderConfigurationPage,
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

test('docs/configuration.md is what the config schemas generate', () => {
  const expected = renderConfigurationPage()
  let actual = ''
  try {
    actual = readFileSync(PAGE_PATH, 'utf8')
  } catch {}
  if (actual !== expected) {
    assert.fail(
      `docs/configuration.md is not what the config schemas generate (${firstDifference(actual, expected)}): run \`pnpm docs:config\``,
    )
  }
})

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
