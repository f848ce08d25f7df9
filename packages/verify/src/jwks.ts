import { createPublicKey } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'

interface Jwk {
  kid?: string
  alg?: string
  use?: string
  kty?: string
}

/**
 * The auth service's public keys by `kid`. Fetched at start and every `refreshMs`; a successful
 * fetch replaces the cached set, so a `kid` withdrawn from the JWKS stops verifying within one
 * refresh interval. A failed fetch keeps the cached keys, so JWT modes keep verifying through an
 * auth outage. An
 * unknown `kid` triggers at most one refetch per `minRefetchMs` (a flood of forged kids cannot turn
 * into a flood of JWKS requests). The key set is the only place a key comes from: `jku`, `x5u` and
 * embedded `jwk` headers are never looked at.
 */
export class JwksCache {
  readonly #url: string
  readonly #algorithm: string
  readonly #minRefetchMs: number
  readonly #refreshMs: number
  readonly #log: FastifyBaseLogger
  #keys = new Map<string, string>()
  #lastFetch = 0
  #inflight: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(
    url: string,
    algorithm: string,
    log: FastifyBaseLogger,
    opts: { refreshMs?: number; minRefetchMs?: number } = {},
  ) {
    this.#url = url
    this.#algorithm = algorithm
    this.#log = log
    this.#refreshMs = opts.refreshMs ?? 60_000
    this.#minRefetchMs = opts.minRefetchMs ?? Math.min(5000, this.#refreshMs)
  }

  /** Starts the periodic refresh. */
  start(): void {
    this.#timer ??= setInterval(() => void this.refresh(), this.#refreshMs)
    this.#timer.unref()
  }

  close(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  get size(): number {
    return this.#keys.size
  }

  async refresh(): Promise<void> {
    this.#inflight ??= (async () => {
      this.#lastFetch = Date.now()
      try {
        const res = await fetch(this.#url, { signal: AbortSignal.timeout(2000) })
        if (!res.ok) throw new Error(`JWKS answered ${res.status}`)
        const { keys } = (await res.json()) as { keys: Jwk[] }
        const next = new Map<string, string>()
        for (const jwk of keys) {
          if (!jwk.kid || jwk.alg !== this.#algorithm || (jwk.use && jwk.use !== 'sig')) continue
          const pem = createPublicKey({ key: jwk as never, format: 'jwk' }).export({
            type: 'spki',
            format: 'pem',
          })
          next.set(jwk.kid, pem.toString())
        }
        this.#keys = next
      } catch (err) {
        this.#log.warn(
          { err: (err as Error).message, url: this.#url },
          'JWKS fetch failed; keeping cached keys',
        )
      } finally {
        this.#inflight = undefined
      }
    })()
    return this.#inflight
  }

  /** The PEM for `kid`, refetching once (rate-limited) when it is not known yet. */
  async key(kid: string): Promise<string | undefined> {
    const known = this.#keys.get(kid)
    if (known) return known
    if (Date.now() - this.#lastFetch >= this.#minRefetchMs) await this.refresh()
    else if (this.#inflight) await this.#inflight
    return this.#keys.get(kid)
  }
}
