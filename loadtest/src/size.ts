// What each credential weighs and what each mode's requests carry through the gateway. The
// credentials are a real login's: its session cookie as auth set it, its access token as auth
// signed it; that token's header and claims are signed again with each algorithm auth supports,
// as claims are added. The bytes per request and response are nginx's own count on the native
// gateway's byte-count listener (packages/cluster), which logs the phase's requests and no others.
import { createHash, createPublicKey, randomBytes, randomUUID } from 'node:crypto'
import { open, stat } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { createSigner } from 'fast-jwt'
import { CREDENTIAL, LOGIN_PASSWORD, MODES, pathFor, SERVICES, userEmail } from '../lib/scenarios.js'
import { keyPair } from './algorithms.ts'
import type { SizeRun } from './size-results.ts'
import { median } from './stats.ts'

export type { SizeRun } from './size-results.ts'

const ALGORITHMS = ['EdDSA', 'ES256', 'RS256'] as const
type Algorithm = (typeof ALGORITHMS)[number]

/** Claims added to the issued ones: what a multi-tenant or claim-rich token would carry. */
export const CLAIM_SETS: readonly { name: string; extra: () => Record<string, unknown> }[] = [
  { name: 'current', extra: () => ({}) },
  { name: '+tenant', extra: () => ({ tenant: randomUUID() }) },
  { name: '+10 claims', extra: () => customClaims(10) },
  { name: '+50 claims', extra: () => customClaims(50) },
]

/** `n` application claims, each a short name and a 16-character value. */
function customClaims(n: number): Record<string, string> {
  const entries = Array.from({ length: n }, (_, i) => [
    `app_${String(i).padStart(2, '0')}`,
    randomBytes(12).toString('base64url'),
  ])
  return Object.fromEntries(entries)
}

interface RealLogin {
  cookie: SizeRun['sessionCookie'] & { pair: string }
  accessToken: string
}

/** Registers and logs in one user through the gateway, keeping auth's Set-Cookie for the session. */
export async function realLogin(base: string, email: string): Promise<RealLogin> {
  const post = (path: string) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: LOGIN_PASSWORD }),
    })
  await post('/auth/register')
  const res = await post('/auth/login')
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${await res.text()}`)
  const { accessToken } = (await res.json()) as { accessToken: string }
  // `sid` natively, `__Host-sid` where cookies are Secure (compose).
  const line = res.headers.getSetCookie().find((c) => /^(__Host-)?sid=/.test(c))
  if (!line) throw new Error('login: no session cookie in Set-Cookie')
  const pair = line.split(';')[0] as string
  const name = pair.slice(0, pair.indexOf('='))
  // Set-Cookie: <line>\r\n and Cookie: <pair>, as HTTP/1.1 carries them.
  const cookie = {
    name,
    pair,
    pairBytes: Buffer.byteLength(pair),
    setCookieBytes: headerBytes('set-cookie', line),
  }
  return { cookie, accessToken }
}

const headerBytes = (name: string, value: string) => Buffer.byteLength(`${name}: ${value}\r\n`)
const decodePart = (token: string, i: number) =>
  JSON.parse(Buffer.from(token.split('.')[i] as string, 'base64url').toString()) as Record<string, unknown>

function signerFor(alg: Algorithm, header: Record<string, unknown>) {
  const { privateKey: key, publicKey } = keyPair(alg)
  // auth's kid is a SHA-256 thumbprint (RFC 7638), so every algorithm's is as long.
  const kid = createHash('sha256')
    .update(createPublicKey(publicKey).export({ type: 'spki', format: 'der' }))
    .digest('base64url')
  return createSigner({ key, algorithm: alg, kid, header: { ...header, alg, kid } }) as (
    payload: Record<string, unknown>,
  ) => string
}

/** The issued token's header and claims, signed with each algorithm, with each claim set added. */
export function tokenSizes(issued: string): { claims: string[]; tokens: SizeRun['tokens'] } {
  const header = decodePart(issued, 0)
  const claims = decodePart(issued, 1)
  const tokens: SizeRun['tokens'] = []
  for (const algorithm of ALGORITHMS) {
    const sign = signerFor(algorithm, header)
    for (const set of CLAIM_SETS) {
      const extra = set.extra()
      const token = sign({ ...claims, ...extra })
      tokens.push({
        algorithm,
        claims: set.name,
        addedClaims: Object.keys(extra).length,
        tokenBytes: Buffer.byteLength(token),
        authorizationBytes: headerBytes('authorization', `Bearer ${token}`),
      })
    }
  }
  return { claims: Object.keys(claims), tokens }
}

/** The headers a client of `mode` sends: its credential, one cookie or one Bearer header, nothing else. */
function credentialHeaders(mode: string, login: RealLogin): Record<string, string> {
  const kind = CREDENTIAL[mode as keyof typeof CREDENTIAL]
  if (kind === 'bearer') return { authorization: `Bearer ${login.accessToken}` }
  if (kind === 'session-cookie') return { cookie: login.cookie.pair }
  return {}
}

/** GETs with a fixed Host header over one keep-alive agent; resolves once all have answered. */
async function send(url: string, host: string, paths: { path: string; headers: Record<string, string> }[]) {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 })
  const one = (p: (typeof paths)[number]) =>
    new Promise<void>((resolve, reject) => {
      // The main listener's Host, so the request is byte for byte what the other phases send there.
      const req = request(`${url}${p.path}`, { agent, headers: { host, ...p.headers } }, (res) => {
        res.resume()
        res.on('end', resolve)
      })
      req.on('error', reject)
      req.end()
    })
  try {
    for (let i = 0; i < paths.length; i += 4) await Promise.all(paths.slice(i, i + 4).map(one))
  } finally {
    agent.destroy()
  }
}

/** The lines nginx appended to the bytes log since `offset` (its authlab_bytes format). */
async function logLinesFrom(path: string, offset: number): Promise<string[]> {
  const file = await open(path, 'r')
  try {
    const size = (await file.stat()).size
    const buf = Buffer.alloc(size - offset)
    await file.read(buf, 0, buf.length, offset)
    return buf.toString().split('\n').filter(Boolean)
  } finally {
    await file.close()
  }
}

/** Per mode: the median bytes read and written for `perMode` requests (nginx's own count). */
export async function wireBytes(
  base: string,
  bytesLog: { url: string; path: string },
  login: RealLogin,
  perMode: number,
): Promise<SizeRun['wire']> {
  const offset = await stat(bytesLog.path).then(
    (s) => s.size,
    () => 0,
  )
  const paths = MODES.flatMap((mode) =>
    Array.from({ length: perMode }, (_, i) => ({
      path: pathFor(SERVICES[i % SERVICES.length] as string, mode),
      headers: credentialHeaders(mode, login),
    })),
  )
  await send(bytesLog.url, new URL(base).host, paths)
  const byMode = new Map<string, { req: number[]; sent: number[]; failed: number }>()
  for (const line of await logLinesFrom(bytesLog.path, offset)) {
    const m = /^(\d+) (\d+) (\d{3}) "\/[a-z-]+\/([a-z-]+)\/me"$/.exec(line)
    if (!m) continue
    const entry = byMode.get(m[4] as string) ?? { req: [], sent: [], failed: 0 }
    entry.req.push(Number(m[1]))
    entry.sent.push(Number(m[2]))
    if (m[3] !== '200') entry.failed++
    byMode.set(m[4] as string, entry)
  }
  return MODES.flatMap((mode) => {
    const e = byMode.get(mode)
    if (!e) return []
    const requestBytes = Math.round(median(e.req))
    const responseBytes = Math.round(median(e.sent))
    return [{ mode, requests: e.req.length, requestBytes, responseBytes, failed: e.failed }]
  })
}

/** The credential each mode's request carries, in bytes (none for `none`). */
function credentialBytes(login: RealLogin): Record<string, number> {
  const bytes: Record<string, number> = {}
  for (const mode of MODES) {
    const kind = CREDENTIAL[mode as keyof typeof CREDENTIAL]
    if (kind === 'bearer') bytes[mode] = Buffer.byteLength(login.accessToken)
    else if (kind === 'session-cookie') bytes[mode] = login.cookie.pairBytes
  }
  return bytes
}

export const WIRE_SKIPPED =
  "size: bytes per request are nginx's count on the native gateway's byte-count listener; not measured against --gateway"

export interface SizeOptions {
  base: string
  /** the native gateway's byte-count listener and log; undefined against --gateway */
  bytesLog?: { url: string; path: string } | undefined
  requestsPerMode: number
  run: string
  log: (line: string) => void
}

export async function measureSize(opts: SizeOptions): Promise<SizeRun> {
  const login = await realLogin(opts.base, userEmail(`${opts.run}-size`, 0))
  const { name, pairBytes, setCookieBytes } = login.cookie
  const { claims, tokens } = tokenSizes(login.accessToken)
  const algorithm = String(decodePart(login.accessToken, 0).alg)
  const issued = {
    algorithm,
    tokenBytes: Buffer.byteLength(login.accessToken),
    authorizationBytes: headerBytes('authorization', `Bearer ${login.accessToken}`),
  }
  opts.log(`  credentials: ${name} cookie ${pairBytes} B, ${algorithm} access token ${issued.tokenBytes} B`)
  const base = {
    sessionCookie: { name, pairBytes, setCookieBytes },
    claims,
    issued,
    tokens,
    credentialBytes: credentialBytes(login),
  }
  if (!opts.bytesLog) return { ...base, wire: [], wireSkipped: WIRE_SKIPPED }
  const wire = await wireBytes(opts.base, opts.bytesLog, login, opts.requestsPerMode)
  const line = wire.map((w) => `${w.mode} ${w.requestBytes}/${w.responseBytes} B`)
  opts.log(`  in/out per request at the gateway: ${line.join(', ')}`)
  return { ...base, wire }
}
