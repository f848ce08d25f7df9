import { createHash } from 'node:crypto'
import { isIPv6 } from 'node:net'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { AuthConfig } from '../../config.ts'

/**
 * Failed logins, counted per (account, client IP) and per account with a higher ceiling (OWASP
 * Authentication cheat sheet, "account lockout"): a guesser is stopped on the account it attacks,
 * while somebody else failing against your account from their own address does not lock you out
 * until the much higher per-account ceiling. @fastify/rate-limit counts every request, not only
 * failures, so this is the one limiter written here; the per-IP budget stays with the plugin.
 * Counters live in Redis, shared by every auth replica; the email is hashed so no address sits in
 * a key.
 */
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

/** The ms until the first spent budget resets, or 0 when both have room. */
const SPENT = `
for i = 1, 2 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[i]) then
    return math.max(redis.call('PTTL', KEYS[i]), 1)
  end
end
return 0`

/** A fixed window per counter, started by its first failure. */
const COUNT = `
for i = 1, 2 do
  redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], ARGV[1], 'NX')
end`

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

  /** Seconds until the client may try this account again; 0 when both budgets have room. */
  async retryAfter(account: string, clientKey: string): Promise<number> {
    const waitMs = (await this.#fastify.redis.eval(
      SPENT,
      2,
      ...this.#keys(account, clientKey),
      this.#config.LOGIN_RATE_LIMIT_PER_ACCOUNT_IP,
      this.#config.LOGIN_RATE_LIMIT_PER_ACCOUNT,
    )) as number
    return Math.ceil(waitMs / 1000)
  }

  async recordFailure(account: string, clientKey: string): Promise<void> {
    const windowMs = this.#config.LOGIN_RATE_LIMIT_WINDOW_S * 1000
    await this.#fastify.redis.eval(COUNT, 2, ...this.#keys(account, clientKey), windowMs)
  }

  /** A success clears this client's failures on the account (not the account's total). */
  async recordSuccess(account: string, clientKey: string): Promise<void> {
    await this.#fastify.redis.del(this.#keys(account, clientKey)[0])
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
