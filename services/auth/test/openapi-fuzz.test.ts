import assert from 'node:assert/strict'
import { test } from 'node:test'
import { seeded } from '@authlab/servers'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { build, INTROSPECTION_CLIENT, registerAndLogin, sharedStores } from './helper.ts'

// A schemathesis-style pass over auth's own OpenAPI document: every operation it declares gets a
// bounded, seeded set of bad inputs (wrong types, missing and extra properties, oversized strings,
// wrong or no content type, malformed JSON, undeclared methods, malformed path parameters, garbage
// credentials). Nothing may answer 5xx, and every 4xx must carry the error shape the document
// promises: the shared ErrorBody, or RFC 6749 §5.2's for the routes of /auth/revoke.

const stores = sharedStores()

const SEED = 0x29_05
const random = seeded(SEED)
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
/** A well-formed v4 UUID from the seeded PRNG: no login has it. */
const seededUuid = (): string => {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16))
  hex[12] = '4'
  hex[16] = '8'
  const h = hex.join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
const junk = (length: number): string => {
  // Printable ASCII and a few multi-byte and control characters.
  const alphabet = 'abcXYZ019 -_.~+/=%&?#;:\'"<>{}[]\\\u00e9\u4e2d\u{1f511}\u0000\t'
  return Array.from({ length }, () => pick([...alphabet])).join('')
}

interface JsonSchema {
  type?: string | string[]
  format?: string
  minLength?: number
  maxLength?: number
  properties?: Record<string, JsonSchema>
  required?: string[]
  additionalProperties?: boolean
  anyOf?: JsonSchema[]
  $ref?: string
}
interface Parameter {
  name: string
  in: string
  required?: boolean
  schema?: JsonSchema
}
interface Operation {
  method: string
  path: string
  parameters: Parameter[]
  body?: { contentType: string; schema: JsonSchema }
}
interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: JsonSchema }> } }
    >
  >
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head']

function operationsOf(doc: OpenApiDocument): Operation[] {
  const ops: Operation[] = []
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue
      const content = Object.entries(op.requestBody?.content ?? {})[0]
      ops.push({
        method: method.toUpperCase(),
        path,
        parameters: op.parameters ?? [],
        ...(content ? { body: { contentType: content[0], schema: content[1].schema } } : {}),
      })
    }
  }
  return ops
}

/** A value the schema accepts, as a starting point to break one property at a time. */
function validValue(schema: JsonSchema): unknown {
  const type = Array.isArray(schema.type) ? schema.type[0] : (schema.type ?? schema.anyOf?.[0]?.type)
  if (type === 'boolean') return true
  if (type === 'integer' || type === 'number') return 1
  if (type === 'object') return validObject(schema)
  if (type === 'array') return []
  if (schema.format === 'email') return 'fuzz@example.test'
  if (schema.format === 'uuid') return '00000000-0000-4000-8000-000000000000'
  return 'x'.repeat(Math.max(schema.minLength ?? 0, 12))
}
function validObject(schema: JsonSchema): Record<string, unknown> {
  return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, s]) => [k, validValue(s)]))
}
/** Values of every JSON type but the schema's. */
function wrongTypes(schema: JsonSchema): unknown[] {
  const all: Array<[string, unknown]> = [
    ['string', junk(6)],
    ['integer', 42],
    ['number', 4.2],
    ['boolean', false],
    ['null', null],
    ['object', { nested: junk(4) }],
    ['array', [junk(3), 7]],
  ]
  const declared = new Set(
    [schema.type, ...(schema.anyOf ?? []).map((s) => s.type)].flat().filter((t) => t !== undefined),
  )
  if (declared.has('number')) declared.add('integer')
  return all.filter(([type]) => !declared.has(type)).map(([, v]) => v)
}

/** A form body: an object's properties (non-strings as JSON), anything else as its JSON text. */
function formEncoded(payload: unknown): string {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    return JSON.stringify(payload)
  return new URLSearchParams(
    Object.entries(payload).map(([k, v]): [string, string] => [
      k,
      typeof v === 'string' ? v : JSON.stringify(v),
    ]),
  ).toString()
}

type Case = { name: string } & InjectOptions
/** The bad inputs for one operation, with the caller's credential chosen per case. */
function casesFor(op: Operation, pathParams: string): Case[] {
  const url = op.path.replace(/\{[^}]+\}/g, pathParams)
  const cases: Case[] = []
  const method = op.method as InjectOptions['method']
  if (op.body) {
    const { schema, contentType } = op.body
    const valid = validObject(schema)
    const json = (name: string, payload: unknown): Case => ({
      name,
      method,
      url,
      headers: { 'content-type': contentType },
      payload: contentType.includes('json') ? JSON.stringify(payload) : formEncoded(payload),
    })
    for (const [prop, propSchema] of Object.entries(schema.properties ?? {})) {
      for (const wrong of wrongTypes(propSchema))
        cases.push(json(`${prop} as ${JSON.stringify(wrong)}`, { ...valid, [prop]: wrong }))
      for (const length of [(propSchema.maxLength ?? 256) + 1, 9000])
        cases.push(json(`${prop} of ${length} characters`, { ...valid, [prop]: junk(length) }))
      cases.push(json(`${prop} empty`, { ...valid, [prop]: '' }))
    }
    for (const prop of schema.required ?? []) {
      const { [prop]: _dropped, ...rest } = valid
      cases.push(json(`without ${prop}`, rest))
    }
    cases.push(json('an extra property', { ...valid, [`extra_${junk(3)}`]: junk(5) }))
    cases.push(json('an array body', [valid]))
    cases.push(json('a string body', junk(10)))
    cases.push(json('a null body', null))
    cases.push(json('a body over the body limit', { ...valid, padding: 'x'.repeat(20_000) }))
    cases.push({
      name: 'malformed JSON',
      method,
      url,
      headers: { 'content-type': 'application/json' },
      payload: '{"a": ',
    })
    cases.push({
      name: 'an empty JSON body',
      method,
      url,
      headers: { 'content-type': 'application/json' },
      payload: '',
    })
    cases.push({ name: 'no body, no content type', method, url })
    for (const type of [
      'text/plain',
      'application/xml',
      'multipart/form-data; boundary=x',
      'application/json; charset=utf-16',
      junk(8),
    ])
      cases.push({
        name: `content type ${type}`,
        method,
        url,
        headers: { 'content-type': type },
        payload: JSON.stringify(valid),
      })
  } else {
    cases.push({
      name: 'an unexpected JSON body',
      method,
      url,
      headers: { 'content-type': 'application/json' },
      payload: '{"x":1}',
    })
    cases.push({
      name: 'an unexpected text body',
      method,
      url,
      headers: { 'content-type': 'text/plain' },
      payload: junk(20),
    })
  }
  cases.push({
    name: 'a junk query string',
    method,
    url: `${url}?${encodeURIComponent(junk(5))}=${encodeURIComponent(junk(5))}&a=1&a=2`,
  })
  return cases
}

const GARBAGE_BEARERS = [
  'Bearer',
  'Bearer ',
  'Bearer a.b.c',
  'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
  'bearer    x',
  'Basic Zm9vOmJhcg==',
  'Basic',
  'Negotiate x',
]
const garbageCookie = (): string =>
  pick([
    `sid=${junk(20)}`,
    `access_token=${junk(30)}`,
    `sid=${'A'.repeat(43)}; access_token=a.b.c`,
    `__Host-sid=${junk(10)}`,
    'sid=; access_token=',
    `sid=${encodeURIComponent(junk(12))}`,
  ])

/** The credential a case is sent with: none, a garbage one, or the live login's (so as to reach the handler). */
function withCredential(c: Case, live: { bearer: string; cookie: string }): Case {
  const headers = { ...((c.headers as Record<string, string>) ?? {}) }
  const roll = random()
  if (roll < 0.3) headers.authorization = pick(GARBAGE_BEARERS)
  else if (roll < 0.45) headers.authorization = `Bearer ${junk(40).replace(/[^A-Za-z0-9._~+/-]/g, 'q')}`
  else if (roll < 0.6) headers.cookie = garbageCookie()
  else if (roll < 0.7) {
    headers.cookie = garbageCookie()
    headers['x-authlab-csrf'] = '1'
  } else if (roll < 0.8) headers.authorization = `Bearer ${live.bearer}`
  else if (roll < 0.9) headers.cookie = live.cookie // and no CSRF header
  return {
    ...c,
    name: `${c.name} [${headers.authorization ?? headers.cookie ?? 'no credential'}]`.slice(0, 160),
    headers,
  }
}

/** What the document promises for a 4xx of this path: RFC 6749 §5.2 under /auth/revoke, else ErrorBody. */
function assertErrorShape(res: LightMyRequestResponse, oauth: boolean, what: string): void {
  let body: Record<string, unknown>
  try {
    body = res.json()
  } catch {
    assert.fail(`${what}: ${res.statusCode} with a body that is not JSON: ${res.body.slice(0, 200)}`)
  }
  const strings = oauth
    ? ['error', 'error_description', 'code', 'requestId']
    : ['code', 'error', 'message', 'requestId']
  for (const key of strings)
    assert.equal(typeof body[key], 'string', `${what}: ${key} in ${res.body.slice(0, 300)}`)
  if (!oauth) assert.equal(body.statusCode, res.statusCode, `${what}: statusCode`)
  else assert.match(String(body.error), /^(invalid_request|temporarily_unavailable|server_error)$/, what)
}

test('no malformed input to any operation of the OpenAPI document gets a 5xx; every 4xx carries the documented error body', async (t) => {
  const app: FastifyInstance = await build(t, stores())
  const docRes = await app.inject({ method: 'GET', url: '/auth/openapi.json' })
  assert.equal(docRes.statusCode, 200)
  const ops = operationsOf(docRes.json() as OpenApiDocument)
  assert.ok(ops.length >= 10, `the document declares the routes (${ops.length})`)

  let sent = 0
  const statuses = new Map<number, number>()
  const failures: string[] = []
  const send = async (c: Case, oauth: boolean) => {
    sent += 1
    const res = await app.inject(c)
    const what = `${c.method} ${String(c.url).slice(0, 80)} ${c.name}`
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    if (res.statusCode >= 500) failures.push(`${what}: ${res.statusCode} ${res.body.slice(0, 200)}`)
    else if (res.statusCode >= 400) {
      try {
        assertErrorShape(res, oauth, what)
      } catch (err) {
        failures.push((err as Error).message)
      }
    }
  }

  const paths = [...new Set(ops.map((op) => op.path))]
  for (const op of ops) {
    // A login of its own per operation: a case may log it out (logout, logout-all, revoke).
    const live = await registerAndLogin(app)
    const sid = live.cookies.find((c) => c.name.endsWith('sid'))
    const credential = {
      bearer: live.login.accessToken as string,
      cookie: sid ? `${sid.name}=${sid.value}` : '',
    }
    const oauth = op.path === '/auth/revoke'
    const params = op.parameters.filter((p) => p.in === 'path')
    const pathValues =
      params.length === 0
        ? ['']
        : [
            'not-a-uuid',
            '1',
            junk(10),
            'x'.repeat(2000),
            '00000000-0000-0000-0000-00000000000g',
            '%00',
            '..%2F..%2Fauth%2Fme',
            seededUuid(),
          ]
    for (const value of pathValues) {
      const cases = casesFor(op, encodeURIComponent(value).replaceAll('%25', '%'))
      // Every case once per operation for the first path value; a sample of them for the others.
      for (const c of value === pathValues[0] ? cases : [pick(cases), pick(cases)]) {
        const fuzzed = withCredential(c, credential)
        // Introspection authenticates its client first (and throttles failures): most cases carry
        // the client's Basic header, so that its body is what is judged.
        if (op.path === '/auth/introspect' && random() < 0.8)
          fuzzed.headers = { ...fuzzed.headers, authorization: INTROSPECTION_CLIENT }
        await send(fuzzed, oauth)
      }
    }
  }
  // Undeclared methods on every documented path.
  for (const path of paths) {
    const declared = new Set(ops.filter((op) => op.path === path).map((op) => op.method))
    const url = path.replace(/\{[^}]+\}/g, seededUuid())
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'SEARCH', 'PROPFIND']) {
      if (declared.has(method) || (method === 'GET' && declared.has('HEAD'))) continue
      await send(
        {
          name: 'an undeclared method',
          method: method as InjectOptions['method'],
          url,
          headers: { 'content-type': 'application/json' },
          payload: '{}',
        },
        false,
      )
    }
  }
  t.diagnostic(`seed ${SEED}: ${sent} requests over ${ops.length} operations`)
  t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`)
  assert.ok(sent >= 200 && sent <= 1000, `a bounded run (${sent} requests)`)
  assert.deepEqual(failures, [], 'no 5xx and no 4xx without the documented error body')
})

test('a path the router cannot decode, or a path parameter over its length limit, answers a 4xx with the shared error body', async (t) => {
  const app = await build(t, stores())
  for (const [url, status] of [
    ['/auth/sessions/%zz', 400],
    [`/auth/sessions/${'x'.repeat(200)}`, 414],
  ] as const) {
    const res = await app.inject({ method: 'DELETE', url, headers: { authorization: 'Bearer x' } })
    assert.equal(res.statusCode, status, url)
    assertErrorShape(res, false, `DELETE ${url.slice(0, 40)}`)
  }
})
