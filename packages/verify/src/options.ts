import { MODES, type Mode } from '@authlab/contract'
import { VerifyOptionsError } from './errors.ts'
import type { VerifyOptions } from './types.ts'

/** The options only some modes read, and which: required when one of those modes is registered. */
const MODE_OPTIONS = {
  sessionIdleTtlMs: ['session', 'session-cached'],
  sessionCacheTtlMs: ['session-cached'],
  sessionCacheMaxEntries: ['session-cached'],
  pushedMaxStalenessMs: ['jwt-pushed'],
  authUrl: ['introspect'],
  introspectTimeoutMs: ['introspect'],
  introspectionClient: ['introspect'],
  internalAudience: ['phantom'],
} as const satisfies Partial<Record<keyof VerifyOptions, readonly Mode[]>>
type ModeOption = keyof typeof MODE_OPTIONS

/** The `modes` option checked: every name a mode of MODES, at least one; absent means all of them. */
function registeredModes(modes: unknown): ReadonlySet<Mode> {
  if (modes === undefined) return new Set(MODES)
  if (!Array.isArray(modes) || modes.length === 0) {
    throw new VerifyOptionsError(`modes must be a non-empty array of: ${MODES.join(', ')}`)
  }
  for (const mode of modes) {
    if (!(MODES as readonly unknown[]).includes(mode)) {
      throw new VerifyOptionsError(
        `unknown mode ${JSON.stringify(mode)} in modes (known: ${MODES.join(', ')})`,
      )
    }
  }
  return new Set(modes as Mode[])
}

/**
 * Checks the options before anything starts and returns the modes to build. Options every
 * registration reads are always required; a mode-specific one only when one of its modes is
 * registered, and checked whenever it is given.
 */
export function validateOptions(opts: VerifyOptions): ReadonlySet<Mode> {
  const modes = registeredModes(opts.modes)
  const needed = (key: ModeOption) => MODE_OPTIONS[key].some((mode: Mode) => modes.has(mode))
  const checked = (key: ModeOption) => needed(key) || opts[key] !== undefined
  for (const key of ['issuer', 'audience', 'jwksUrl'] as const) {
    if (!opts[key]) throw new VerifyOptionsError(`${key} is required`)
  }
  const missing = (key: ModeOption) =>
    new VerifyOptionsError(`${key} is required with the ${MODE_OPTIONS[key].join(' or ')} mode`)
  if (checked('authUrl') && !opts.authUrl) throw missing('authUrl')
  if (checked('internalAudience') && !opts.internalAudience) throw missing('internalAudience')
  if (opts.internalAudience === opts.audience) {
    throw new VerifyOptionsError(
      'internalAudience must differ from audience: the two kinds of token must never pass for each other',
    )
  }
  if (!['EdDSA', 'ES256', 'RS256'].includes(opts.algorithm)) {
    throw new VerifyOptionsError(`algorithm must be EdDSA, ES256 or RS256, not ${opts.algorithm}`)
  }
  for (const key of ['jwksRefreshMs', 'maxAgeMs'] as const) {
    if (!(opts[key] > 0)) throw new VerifyOptionsError(`${key} must be positive`)
  }
  for (const key of [
    'sessionIdleTtlMs',
    'sessionCacheTtlMs',
    'sessionCacheMaxEntries',
    'pushedMaxStalenessMs',
    'introspectTimeoutMs',
  ] as const) {
    if (!checked(key)) continue
    const value = opts[key]
    if (value === undefined) throw missing(key)
    if (!(value > 0)) throw new VerifyOptionsError(`${key} must be positive`)
  }
  if (checked('introspectionClient') && (!opts.introspectionClient?.id || !opts.introspectionClient.secret)) {
    throw new VerifyOptionsError('introspectionClient needs an id and a secret')
  }
  if (!(opts.clockToleranceMs >= 0 && opts.clockToleranceMs <= 60_000)) {
    throw new VerifyOptionsError('clockToleranceMs must be between 0 and 60000')
  }
  if (!(opts.verifyCacheSize >= 0)) throw new VerifyOptionsError('verifyCacheSize must be 0 or more')
  return modes
}

/**
 * A mode-specific option, read by its strategy at build time. validateOptions has required it of
 * every registered mode that reads it, so this throws only if a strategy is built without that.
 */
export function modeOption<K extends ModeOption>(opts: VerifyOptions, key: K): NonNullable<VerifyOptions[K]> {
  const value = opts[key]
  if (value === undefined || value === null) throw new VerifyOptionsError(`${key} is required`)
  return value as NonNullable<VerifyOptions[K]>
}
