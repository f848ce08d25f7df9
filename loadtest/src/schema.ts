import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { Results } from './results.ts'

export const SCHEMA_FILE = join(import.meta.dirname, '../results.schema.json')

/** results.schema.json as the TypeBox definition yields it (what `pnpm … schema` writes). */
export function schemaJson(): string {
  return `${JSON.stringify(Results, null, 2)}\n`
}

const validate = new Ajv2020({ allErrors: true, validateFormats: false }).compile(JSON.parse(schemaJson()))

/** Validates a results document against the schema; returns the errors, none when valid. */
export function validateResults(results: unknown): string[] {
  // Round-trip through JSON first: what is checked is what gets written (NaN becomes null).
  if (validate(JSON.parse(JSON.stringify(results)))) return []
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`)
}

if (import.meta.main) {
  writeFileSync(SCHEMA_FILE, schemaJson())
  console.log(`wrote ${SCHEMA_FILE}`)
}
