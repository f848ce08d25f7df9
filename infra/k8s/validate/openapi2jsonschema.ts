// Kubernetes' OpenAPI v2 document (api/openapi-spec/swagger.json of k8s.io/kubernetes) → one
// standalone JSON schema per kind, in the layout kubeconform reads from a local -schema-location:
//   <out>/v<version>-standalone-strict/<kind>[-<group>]-<version>.json
// The same transformations as the schemas kubeconform downloads by default (openapi2jsonschema
// --expanded --kubernetes --stand-alone --strict), written here because that registry is on GitHub:
//   - every $ref inlined (stand-alone; a recursive type, only in CustomResourceDefinition, becomes {})
//   - additionalProperties: false on every object with properties (strict: unknown fields fail)
//   - kind and apiVersion pinned to the definition's group-version-kind
//   - int-or-string accepts a string or an integer, a Quantity a string or a number
//   - an optional field may be null, as the API server accepts
// Descriptions and x-kubernetes-* annotations are dropped: they never change a verdict.
//
// Usage: node infra/k8s/validate/openapi2jsonschema.ts <swagger.json> <out-dir> <version, e.g. v1.35.4>
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

type Schema = { [key: string]: unknown }
interface Gvk {
  group: string
  version: string
  kind: string
}

const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity'

/** Schema file name as kubeconform derives it from a manifest's kind and apiVersion. */
export function schemaFileName(kind: string, apiVersion: string): string {
  const [groupOrVersion, version] = apiVersion.split('/')
  const suffix = version === undefined ? groupOrVersion : `${groupOrVersion!.split('.')[0]}-${version}`
  return `${kind.toLowerCase()}-${suffix!.toLowerCase()}.json`
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The standalone, strict schema of one definition, every reference inlined. */
export function standalone(definitions: Record<string, Schema>, name: string): Schema {
  const expand = (node: unknown, stack: string[]): unknown => {
    if (Array.isArray(node)) return node.map((item) => expand(item, stack))
    if (!isSchema(node)) return node
    const ref = node.$ref
    if (typeof ref === 'string') {
      const target = ref.replace(/^#\/definitions\//, '')
      if (stack.includes(target)) return {}
      const definition = definitions[target]
      if (!definition) throw new Error(`unresolved reference ${ref}`)
      if (target === QUANTITY) return { oneOf: [{ type: 'string' }, { type: 'number' }] }
      return expand(definition, [...stack, target])
    }
    if (node.format === 'int-or-string') return { oneOf: [{ type: 'string' }, { type: 'integer' }] }
    const out: Schema = {}
    for (const [key, value] of Object.entries(node)) {
      if (key === 'description' || key.startsWith('x-kubernetes-')) continue
      out[key] = key === 'properties' ? expandProperties(value as Schema, node, stack) : expand(value, stack)
    }
    if (out.properties !== undefined && out.additionalProperties === undefined)
      out.additionalProperties = false
    return out
  }
  const expandProperties = (properties: Schema, parent: Schema, stack: string[]): Schema => {
    const required = new Set(Array.isArray(parent.required) ? (parent.required as string[]) : [])
    const out: Schema = {}
    for (const [field, value] of Object.entries(properties)) {
      const schema = expand(value, stack) as Schema
      if (!required.has(field) && typeof schema.type === 'string' && schema.type !== 'null') {
        schema.type = [schema.type, 'null']
      }
      out[field] = schema
    }
    return out
  }
  return expand(definitions[name], [name]) as Schema
}

/** Every kind of the document: file name → schema. */
export function convert(swagger: { definitions: Record<string, Schema> }): Map<string, Schema> {
  const files = new Map<string, Schema>()
  for (const [name, definition] of Object.entries(swagger.definitions)) {
    const gvks = definition['x-kubernetes-group-version-kind'] as Gvk[] | undefined
    if (!gvks) continue
    const base = standalone(swagger.definitions, name)
    const properties = (base.properties ?? {}) as Record<string, Schema>
    for (const { group, version, kind } of gvks) {
      const apiVersion = group ? `${group}/${version}` : version
      const file = schemaFileName(kind, apiVersion)
      // A kind defined twice (meta/v1 kinds listed under every group) keeps its own group's definition.
      if (files.has(file) && name.startsWith('io.k8s.apimachinery.')) continue
      const schema: Schema = { $schema: 'http://json-schema.org/schema#', type: 'object', ...base }
      if (properties.kind && properties.apiVersion) {
        schema.properties = {
          ...properties,
          kind: { ...properties.kind, enum: [kind] },
          apiVersion: { ...properties.apiVersion, enum: [apiVersion] },
        }
      }
      files.set(file, schema)
    }
  }
  return files
}

if (import.meta.main) {
  const [swaggerPath, outDir, version] = process.argv.slice(2)
  if (!swaggerPath || !outDir || !version?.startsWith('v')) {
    console.error('usage: openapi2jsonschema.ts <swagger.json> <out-dir> <version, e.g. v1.35.4>')
    process.exit(2)
  }
  const files = convert(JSON.parse(readFileSync(swaggerPath, 'utf8')))
  // Written aside and renamed into place: a directory that exists is complete.
  const target = join(outDir, `${version}-standalone-strict`)
  const partial = `${target}.partial`
  rmSync(partial, { recursive: true, force: true })
  mkdirSync(partial, { recursive: true })
  for (const [file, schema] of files) writeFileSync(join(partial, file), JSON.stringify(schema))
  rmSync(target, { recursive: true, force: true })
  renameSync(partial, target)
  console.log(`${files.size} schemas in ${target}`)
}
