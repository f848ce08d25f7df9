import { createPublicKey } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'

interface Jwk {
  kid?: string
  alg?: string
  use?: string
  kty?: string
}

/**
 * The auth service's public keys by `kid`, each with what `compile` made of it once (a verifier,
 * so nothing is compiled per request). A key whose PEM has not changed keeps its compiled value
 * across refreshes, and with it the verifier's token cache. Fetched at start and every
 * `refreshMs`; a successful fetch replaces the cached set, so a `kid` withdrawn from the JWKS stops
 * verifying within one refresh interval. A failed fetch keeps the cached keys, so JWT modes keep
 * verifying through an auth outage. An unknown `kid` triggers at most one refetch per
 * `minRefetchMs` (a flood of forged kids cannot turn into a flood of JWKS requests). The key set
 * is the only place a key comes from: `jku`, `x5u` and embedded `jwk` headers are never looked at.
 */
export class JwksCache<V = string> {
  readonly #url: string
  readonly #algorithm: string
  readonly #minRefetchMs: number
  readonly #refreshMs: number
  readonly #log: FastifyBaseLogger
  readonly #compile: (pem: string, kid: string) => V
  #keys = new Map<string, { pem: string; value: V }>()
  #lastFetch = 0
  #inflight: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(
    url: string,
    algorithm: string,
    log: FastifyBaseLogger,
    opts: { refreshMs?: number; minRefetchMs?: number; compile?: (pem: string, kid: string) => V } = {},
  ) {
    this.#compile = opts.compile ?? ((pem) => pem as V)
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
        const next = new Map<string, { pem: string; value: V }>()
        for (const jwk of keys) {
          if (!jwk.kid || jwk.alg !== this.#algorithm || (jwk.use && jwk.use !== 'sig')) continue
          // One key that cannot be used (malformed, or not of its `alg`'s type) is left out on its
          // own: failing the whole refresh would freeze the set, and a withdrawn key would go on
          // verifying.
          try {
            const pem = createPublicKey({ key: jwk as never, format: 'jwk' })
              .export({ type: 'spki', format: 'pem' })
              .toString()
            const known = this.#keys.get(jwk.kid)
            next.set(jwk.kid, known?.pem === pem ? known : { pem, value: this.#compile(pem, jwk.kid) })
          } catch (err) {
            this.#log.warn({ err: (err as Error).message, kid: jwk.kid }, 'JWKS key left out: unusable')
          }
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

  /** What was compiled for `kid` if the current set has it; never fetches. */
  current(kid: string): V | undefined {
    return this.#keys.get(kid)?.value
  }

  /** What was compiled for `kid`, refetching once (rate-limited) when it is not known yet. */
  async key(kid: string): Promise<V | undefined> {
    const known = this.#keys.get(kid)
    if (known) return known.value
    if (Date.now() - this.#lastFetch >= this.#minRefetchMs) await this.refresh()
    else if (this.#inflight) await this.#inflight
    return this.#keys.get(kid)?.value
  }
}
