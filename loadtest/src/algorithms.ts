import { createPublicKey, generateKeyPairSync, randomUUID, verify } from 'node:crypto'
import { createSigner, createVerifier } from 'fast-jwt'
import type { Redis } from 'ioredis'
import type { AlgorithmCost } from './results.ts'

export type { AlgorithmCost } from './results.ts'

const ALGORITHMS = ['EdDSA', 'ES256', 'RS256'] as const
export type Algorithm = (typeof ALGORITHMS)[number]

/** A fresh key pair for `alg`, as PEM (the bench's signing measurements and the size phase). */
export function keyPair(alg: (typeof ALGORITHMS)[number]) {
  const pair =
    alg === 'EdDSA'
      ? generateKeyPairSync('ed25519')
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('rsa', { modulusLength: 2048 })
  return {
    privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  }
}

/** CPU µs per call, measured with process.cpuUsage so other processes do not inflate it. */
function cpuUsPer(n: number, work: (i: number) => void): number {
  const before = process.cpuUsage()
  for (let i = 0; i < n; i++) work(i)
  const used = process.cpuUsage(before)
  return (used.user + used.system) / n
}

/** Cold and warm verification cost per algorithm, as the downstream verifier does it (fast-jwt). */
export function measureAlgorithms(tokens = 2000): Record<string, AlgorithmCost> {
  const result: Record<string, AlgorithmCost> = {}
  for (const alg of ALGORITHMS) {
    const { privateKey, publicKey } = keyPair(alg)
    const sign = createSigner({ key: privateKey, algorithm: alg, expiresIn: 300_000 })
    const claims = (i: number) => ({ sub: `user-${i}`, jti: randomUUID(), sid: 'x' })
    const pool: string[] = []
    const signUs = cpuUsPer(tokens, (i) => pool.push(sign(claims(i))))
    const cold = createVerifier({ key: publicKey, algorithms: [alg] })
    const warm = createVerifier({ key: publicKey, algorithms: [alg], cache: 16 })
    warm(pool[0] as string)
    const warmVerifyUs = cpuUsPer(tokens * 10, () => warm(pool[0] as string))
    // The floor: node:crypto with a KeyObject prepared once, given the token string as a request
    // brings it. It splits the compact form and decodes the signature (no verifier can skip that),
    // but reads neither header nor claims.
    const keyObject = createPublicKey(publicKey)
    const raw = (i: number) => {
      const token = pool[i] as string
      const dot = token.lastIndexOf('.')
      const input = Buffer.from(token.slice(0, dot))
      const signature = Buffer.from(token.slice(dot + 1), 'base64url')
      const ok =
        alg === 'EdDSA'
          ? verify(null, input, keyObject, signature)
          : verify(
              'sha256',
              input,
              alg === 'ES256' ? { key: keyObject, dsaEncoding: 'ieee-p1363' } : keyObject,
              signature,
            )
      if (!ok) throw new Error(`raw ${alg} verification failed`)
    }
    // Both run over the whole pool before either is timed: a fresh function runs interpreted, then
    // baseline-compiled, and reaches the optimising tier only after thousands of calls, as a
    // replica's verifier does within its first seconds (with 200 calls of warm-up, EdDSA read
    // 1.10-1.18x the floor in the first pass and 1.04-1.08x after). Then both are measured in
    // alternating batches over the same tokens: the core's speed changes over seconds on a VM, and
    // alternation puts both sides under the same conditions (the bench's same-window idea, in process).
    for (let i = 0; i < pool.length; i++) {
      cold(pool[i] as string)
      raw(i)
    }
    let coldUs = 0
    let rawUs = 0
    const batch = 50
    for (let start = 0; start < pool.length; start += batch) {
      const n = Math.min(batch, pool.length - start)
      // Which side goes first alternates too, so neither always finds the other's caches warm.
      const timeCold = () => (coldUs += cpuUsPer(n, (i) => cold(pool[start + i] as string)) * n)
      const timeRaw = () => (rawUs += cpuUsPer(n, (i) => raw(start + i)) * n)
      if ((start / batch) % 2 === 0) {
        timeCold()
        timeRaw()
      } else {
        timeRaw()
        timeCold()
      }
    }
    const coldVerifyUs = coldUs / pool.length
    const rawVerifyUs = rawUs / pool.length
    result[alg] = { coldVerifyUs, warmVerifyUs, signUs, rawVerifyUs }
  }
  return result
}

/** Client-side µs per sequential Redis GET: the latency a `session` lookup adds to a request. */
export async function redisRoundTripUs(redis: Redis, n = 2000): Promise<number> {
  await redis.set('authlab:bench:probe', '1')
  const started = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await redis.get('authlab:bench:probe')
  return Number(process.hrtime.bigint() - started) / 1000 / n
}
