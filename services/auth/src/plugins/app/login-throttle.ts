import { createHash } from 'node:crypto'
import { isIPv6 } from 'node:net'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { AuthConfig } from '../../config.ts'

// Failed logins, counted per (account, client IP) and per account with a higher ceiling (OWASP
// Authentication cheat sheet, "account lockout"): a guesser is stopped on the account it attacks.
// Past the account's ceiling, addresses that have failed on it wait for the window while an address
// that has not is still judged, so nobody can lock an owner out by failing from a few addresses of
// their own (a hard lock would make the ceiling a denial of service). @fastify/rate-limit counts
// every request, not only failures, so this is the one limiter written here; the per-IP budget
// stays with the plugin. Counters live in Redis, shared by every auth replica; the email is hashed
// so no address sits in a key.

/**
 * The address a limit is keyed on. IPv6 by /64: one subscriber usually holds a whole /64, so
 * per-address budgets would be endless.
 */
export function clientKey(ip: string): string {
  if (!isIPv6(ip)) return ip
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (mapped?.[1]) return mapped[1]
  const address = ip.split('%')[0] ?? ip
  const groups = (part: string | undefined) => (part ? part.split(':') : [])
  const [head, tail] = address.split('::')
  const left = groups(head)
  // An embedded IPv4 tail holds two groups' worth of bits.
  const right = groups(tail)
  const rightWidth = right.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0)
  const full = address.includes('::')
    ? [...left, ...Array(8 - left.length - rightWidth).fill('0'), ...right]
    : left
  return `${full
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`
}

/**
 * Check and count in one step, so parallel attempts cannot all pass on the same old count: an
 * attempt is refused (the ms until its budget resets) or reserved as a failure, to be given back
 * if it succeeds. Past the account's ceiling only addresses that have not failed on it are judged:
 * others' failures slow guessing on the account without locking its owner out.
 * KEYS: the (account, address) counter, the account's counter.
 * ARGV: the per-(account, address) limit, the per-account ceiling, the window in ms.
 */
const RESERVE = `
local mine = tonumber(redis.call('GET', KEYS[1]) or '0')
if mine >= tonumber(ARGV[1]) then return math.max(redis.call('PTTL', KEYS[1]), 1) end
if mine > 0 and tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[2]) then
  return math.max(redis.call('PTTL', KEYS[2]), 1)
end
for i = 1, 2 do
  redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], ARGV[3], 'NX')
end
return 0`

/**
 * Gives a reservation back: ARGV[1] 'clear' after a success (this address's failures on the
 * account are forgiven), 'one' after an attempt that was never judged (a store was down).
 * A counter that has expired meanwhile is left alone rather than driven below zero.
 */
const RELEASE = `
if ARGV[1] == 'clear' then
  redis.call('DEL', KEYS[1])
elseif tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
  redis.call('DECR', KEYS[1])
end
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end`

/** How a reserved attempt ended. */
export type AttemptOutcome = 'failed' | 'succeeded' | 'not-judged'

export class LoginThrottle {
  readonly #fastify: FastifyInstance
  readonly #config: AuthConfig

  constructor(fastify: FastifyInstance, config: AuthConfig) {
    this.#fastify = fastify
    this.#config = config
  }

  #keys(account: string, clientKey: string): [string, string] {
    const id = createHash('sha256').update(account).digest('base64url').slice(0, 22)
    // One hash tag for both, so the script's two keys share a Redis Cluster slot.
    return [`authlab:rl:login-fail:{${id}}:${clientKey}`, `authlab:rl:login-fail:{${id}}`]
  }

  /**
   * Reserves one attempt on the account from this client, counted as a failure until `settle`
   * says otherwise; resolves with the seconds to wait instead (0: reserved).
   */
  async reserve(account: string, clientKey: string): Promise<number> {
    const waitMs = (await this.#fastify.redis.eval(
      RESERVE,
      2,
      ...this.#keys(account, clientKey),
      this.#config.LOGIN_RATE_LIMIT_PER_ACCOUNT_IP,
      this.#config.LOGIN_RATE_LIMIT_PER_ACCOUNT,
      this.#config.LOGIN_RATE_LIMIT_WINDOW_S * 1000,
    )) as number
    return Math.ceil(waitMs / 1000)
  }

  /** A failed attempt stays counted; any other outcome gives the reservation back. */
  async settle(account: string, clientKey: string, outcome: AttemptOutcome): Promise<void> {
    if (outcome === 'failed') return
    const mode = outcome === 'succeeded' ? 'clear' : 'one'
    await this.#fastify.redis.eval(RELEASE, 2, ...this.#keys(account, clientKey), mode)
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    loginThrottle: LoginThrottle
  }
}

export default fp(
  async (fastify: FastifyInstance, opts: { config: AuthConfig }) => {
    fastify.decorate('loginThrottle', new LoginThrottle(fastify, opts.config))
  },
  { name: 'authlab-login-throttle', fastify: '5.x', dependencies: ['authlab-redis'] },
)
