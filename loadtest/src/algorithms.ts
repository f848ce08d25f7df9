import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { createSigner, createVerifier } from 'fast-jwt'
import type { Redis } from 'ioredis'

export interface AlgorithmCost {
  /** µs of CPU per verification of a token never seen before (no cache can help) */
  coldVerifyUs: number
  /** µs per verification of a token verified before (fast-jwt's cache hit) */
  warmVerifyUs: number
  signUs: number
}

const ALGORITHMS = ['EdDSA', 'ES256', 'RS256'] as const

function keyPair(alg: (typeof ALGORITHMS)[number]) {
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
    cold(pool[0] as string) // first call compiles; not what a request pays
    const coldVerifyUs = cpuUsPer(tokens - 1, (i) => cold(pool[i + 1] as string))
    const warm = createVerifier({ key: publicKey, algorithms: [alg], cache: 16 })
    warm(pool[0] as string)
    const warmVerifyUs = cpuUsPer(tokens * 10, () => warm(pool[0] as string))
    result[alg] = { coldVerifyUs, warmVerifyUs, signUs }
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
