import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'

const SCHEMA = JSON.parse(readFileSync(new URL('../results.schema.json', import.meta.url), 'utf8'))

/** Validates a results document against results.schema.json; returns the errors, none when valid. */
export function validateResults(results: unknown): string[] {
  const ajv = new Ajv2020({ allErrors: true, validateFormats: false })
  const validate = ajv.compile(SCHEMA)
  // Round-trip through JSON first: what is checked is what gets written (NaN becomes null).
  if (validate(JSON.parse(JSON.stringify(results)))) return []
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`)
}
