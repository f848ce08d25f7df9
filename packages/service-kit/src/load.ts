import envSchema from 'env-schema'
import type { Static, TObject } from 'typebox'
import { ConfigInvalidError } from './errors.ts'

/**
 * Reads and validates configuration once, at start. An empty variable counts as unset (compose's
 * `${VAR:-}` passes one through), so its default applies. Values are coerced from strings
 * (env vars are always strings), defaults applied, and unknown variables dropped, so the
 * returned object is exactly the schema's shape. Throws AUTHLAB_CONFIG_INVALID naming every
 * bad variable rather than letting the service start half-configured.
 */
export function loadConfig<S extends TObject>(schema: S, env: NodeJS.ProcessEnv = process.env): Static<S> {
  try {
    const data = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''))
    return envSchema<Static<S>>({ schema, data, env: false, dotenv: false })
  } catch (err) {
    throw new ConfigInvalidError((err as Error).message)
  }
}

/**
 * Prefixes that a schema's names share with variables that are not ours: NODE_ENV is ours, but
 * NODE_OPTIONS, NODE_EXTRA_CA_CERTS and the node image's NODE_VERSION are Node.js's.
 */
const FOREIGN_PREFIXES: ReadonlySet<string> = new Set(['NODE_'])

/** A variable set in the environment that no setting of the schema reads, but looks as if it meant one. */
export interface UnknownVariable {
  name: string
  /** The schema's name nearest to it, when it is close enough to be a misspelling. */
  suggestion?: string
}

/**
 * The variables of `env` that look like configuration of this schema but that it does not read: a
 * misspelling (`SESION_CACHE_TTL_MS`) or a setting of another service. "Looks like ours" is either
 * of two tests, on the name upper-cased (a lower-case `port` is a mistake too):
 *
 * - it starts with a prefix of the schema's own names, their first `_`-separated word and its `_`
 *   (JWT_, SESSION_, REDIS_, DATABASE_, ACCESS_, REFRESH_, DENYLIST_, KEY_, COOKIE_, LOGIN_, …), but
 *   not a prefix that is Node.js's (NODE_);
 * - or it is within an edit distance (insertions, deletions, substitutions and swaps of adjacent
 *   letters) of a schema name: 2 for a name of 8 or more characters, 1 for a shorter one, so HOME
 *   (2 from HOST) and PATH are not taken for ours while HSOT is.
 *
 * Sorted by name. Read once, at start, alongside loadConfig; the service logs the list.
 */
export function unknownVariables(schema: TObject, env: NodeJS.ProcessEnv = process.env): UnknownVariable[] {
  const known = Object.keys(schema.properties)
  const knownSet = new Set(known)
  const prefixes = new Set(
    known
      .filter((name) => name.includes('_'))
      .map((name) => `${name.slice(0, name.indexOf('_'))}_`)
      .filter((prefix) => !FOREIGN_PREFIXES.has(prefix)),
  )
  const found: UnknownVariable[] = []
  for (const name of Object.keys(env).sort()) {
    if (knownSet.has(name)) continue
    const upper = name.toUpperCase()
    let suggestion: string | undefined
    let best = Number.POSITIVE_INFINITY
    for (const candidate of known) {
      const allowed = candidate.length >= 8 ? 2 : 1
      const distance = editDistance(upper, candidate, allowed)
      if (distance <= allowed && distance < best) {
        best = distance
        suggestion = candidate
      }
    }
    const prefixed = [...prefixes].some((prefix) => upper.startsWith(prefix))
    if (suggestion !== undefined || prefixed) found.push({ name, ...(suggestion ? { suggestion } : {}) })
  }
  return found
}

/**
 * Logs unknownVariables as one warning line naming them all (nothing when there is none), and
 * returns them. A warning, not a refusal to start: the variable may be meant for another service.
 */
export function warnUnknownVariables(
  log: { warn(fields: object, message: string): void },
  schema: TObject,
  env: NodeJS.ProcessEnv = process.env,
): UnknownVariable[] {
  const unknown = unknownVariables(schema, env)
  if (unknown.length > 0) {
    const list = unknown
      .map(({ name, suggestion }) => (suggestion ? `${name} (did you mean ${suggestion}?)` : name))
      .join(', ')
    log.warn(
      { unknownVariables: unknown.map(({ name }) => name) },
      `environment variables that look like configuration but that this service does not read, so ignores: ${list}`,
    )
  }
  return unknown
}

/**
 * Optimal string alignment distance (Levenshtein plus swaps of adjacent characters), or `limit + 1`
 * as soon as it must exceed `limit`.
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1
  let before: number[] = []
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    let rowMin = i
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      )
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (before[j - 2] as number) + 1)
      }
      current[j] = d
      rowMin = Math.min(rowMin, d)
    }
    if (rowMin > limit) return limit + 1
    before = previous
    previous = current
  }
  return previous[b.length] as number
}
