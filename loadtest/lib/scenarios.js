// Scenario definitions shared by the k6 scripts and the native bench driver: which modes exist,
// the path each is served on, which credential it takes, and what a valid or a revoked credential
// must get. Plain JavaScript with no imports, so k6 and Node both load it as it is.

/** Every verification mode, in report order (the `none` baseline first). */
export const MODES = /** @type {const} */ ([
  'none',
  'jwt',
  'session',
  'session-cached',
  'jwt-denylist',
  'jwt-pushed',
  'introspect',
  'phantom',
])

export const SERVICES = /** @type {const} */ (['orders', 'profile'])

/** Which part of a login each mode is given. */
export const CREDENTIAL = {
  none: 'none',
  jwt: 'bearer',
  session: 'session-cookie',
  'session-cached': 'session-cookie',
  'jwt-denylist': 'bearer',
  'jwt-pushed': 'bearer',
  introspect: 'bearer',
  // The gateway exchanges the session for an internal token; the client never holds one.
  phantom: 'session-cookie',
}

/**
 * Status expected after logout-all returned, once the mode's revocation has taken effect:
 * `jwt` keeps accepting until `exp` by design; the others reject.
 */
export const EXPECTED_AFTER_REVOKE = {
  none: 200,
  jwt: 200,
  session: 401,
  'session-cached': 401,
  'jwt-denylist': 401,
  'jwt-pushed': 401,
  introspect: 401,
  phantom: 401,
}

/** Modes that must reject at once: no request started after logout-all returned may get a 200. */
export const IMMEDIATE_REVOCATION = ['session', 'jwt-denylist', 'introspect']
/**
 * Modes that converge within a bound (jwt-pushed: staleness bound; session-cached: cache TTL;
 * phantom: the gateway's exchange cache, PHANTOM_CACHE_TTL_MS).
 */
export const EVENTUAL_REVOCATION = ['session-cached', 'jwt-pushed', 'phantom']

/**
 * Token profiles. warm: a small pool of logins, each credential reused, so verification caches hit
 * (fast-jwt's verified-token cache, session-cached). cold: a pool larger than those caches, cycled
 * round robin, so every request carries a credential the replica has not verified recently.
 */
export const TOKEN_PROFILES = {
  warm: { logins: 4, tokensPerLogin: 1 },
  cold: { logins: 150, tokensPerLogin: 10 },
}

/**
 * @param {string} service
 * @param {string} mode
 */
export function pathFor(service, mode) {
  return `/${service}/${mode}/me`
}

/**
 * Request headers carrying `login`'s credential the way `mode` reads it.
 * @param {string} mode
 * @param {{ accessToken?: string, sessionId?: string }} login
 * @returns {Record<string, string>}
 */
export function headersFor(mode, login) {
  const kind = CREDENTIAL[/** @type {keyof typeof CREDENTIAL} */ (mode)]
  if (kind === 'bearer') return { authorization: `Bearer ${login.accessToken}` }
  // Under both names: compose runs with COOKIE_SECURE (`__Host-sid`), the native cluster without
  // (`sid`); each service reads only the one it sets.
  if (kind === 'session-cookie') return { cookie: `sid=${login.sessionId}; __Host-sid=${login.sessionId}` }
  return {}
}

export const LOGIN_PASSWORD = 'correct horse battery staple'

/**
 * @param {string | number} run
 * @param {number} i
 */
export function userEmail(run, i) {
  return `bench-${run}-${i}@example.test`
}

/**
 * Seconds in a k6-style duration: `90`, `45s`, `2m`, `1m30s`, `1h`, `500ms`. Throws on anything
 * else, so a typo is an error rather than a 2-second run.
 * @param {string} text
 * @returns {number}
 */
export function durationSeconds(text) {
  const value = String(text).trim()
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value)
  const units = { h: 3600, m: 60, s: 1, ms: 0.001 }
  let total = 0
  let rest = value
  const part = /^(\d+(?:\.\d+)?)(ms|h|m|s)/
  while (rest.length > 0) {
    const match = part.exec(rest)
    if (!match) throw new Error(`not a duration: "${text}" (use e.g. 30s, 2m, 1m30s)`)
    total += Number(match[1]) * units[/** @type {'h'|'m'|'s'|'ms'} */ (match[2])]
    rest = rest.slice(match[0].length)
  }
  if (value.length === 0) throw new Error('empty duration')
  return total
}

/**
 * The modes a k6 run covers: every mode, or the comma-separated subset `text` names. An unknown name
 * is an error: it would otherwise be sent to `/orders/<typo>/me` and read as a failing mode.
 * @param {string | undefined} text
 * @returns {string[]}
 */
export function parseModes(text) {
  if (text === undefined || text.trim() === '') return [...MODES]
  const modes = text.split(',').map((m) => m.trim())
  const known = /** @type {readonly string[]} */ (MODES)
  for (const mode of modes)
    if (!known.includes(mode)) throw new Error(`unknown mode "${mode}" (the modes: ${MODES.join(', ')})`)
  return modes
}

/**
 * The token profile `name` names; an unknown name is an error, not a silent default.
 * @param {string} name
 * @returns {{ logins: number, tokensPerLogin: number }}
 */
export function tokenProfile(name) {
  if (name !== 'warm' && name !== 'cold') throw new Error(`TOKEN_PROFILE must be warm or cold, not "${name}"`)
  return TOKEN_PROFILES[name]
}

/**
 * The mode a throughput iteration measures: its scenario's, where the scenario is named after a
 * mode (throughput.js names each of its scenarios after its mode). Otherwise `k6 run --duration`
 * (or `--vus`, `--iterations`, `--stage`) replaced the script's scenarios with one called `default`,
 * and the modes take turns, iteration by iteration, so that no request goes to an undefined mode.
 * @param {string} scenario
 * @param {readonly string[]} modes
 * @param {number} iteration
 * @returns {string}
 */
export function modeFor(scenario, modes, iteration) {
  if (modes.includes(scenario)) return scenario
  const mode = modes[iteration % modes.length]
  if (mode === undefined) throw new Error('no mode to measure')
  return mode
}

/**
 * The logins (indices into a pool of `logins`) virtual user `vu` (1-based) of `vus` sends and,
 * when their access tokens expire, refreshes. A k6 VU shares no memory with the others, and a
 * rotated refresh token presented again after the auth service's REFRESH_REUSE_GRACE_MS revokes its
 * whole login; so with at least as many logins as VUs, every login belongs to exactly one VU. With
 * fewer (the warm profile), a login's VUs all see its token expire at the same moment and refresh
 * it within that grace, which hands each of them the same successor.
 * @param {number} vu
 * @param {number} vus
 * @param {number} logins
 * @returns {number[]}
 */
export function loginsOf(vu, vus, logins) {
  if (!(logins >= 1)) throw new Error('the pool has no login')
  const owners = Math.max(1, Math.min(logins, vus))
  const owned = []
  for (let l = Math.max(0, vu - 1) % owners; l < logins; l += owners) owned.push(l)
  return owned
}

/** The header that proves a cookie-authenticated request is not cross-site (@authlab/contract's). */
export const CSRF_HEADER = 'x-authlab-csrf'

/**
 * Rows measured beside the modes that are not modes: the tutorial code (services/textbook), its
 * session and its JWT. Kept apart from MODES so nothing that iterates the verification modes (the
 * decision table, the capacity model, the faults) picks them up by accident.
 */
export const PEER_ROWS = /** @type {const} */ (['textbook-session', 'textbook-jwt'])
