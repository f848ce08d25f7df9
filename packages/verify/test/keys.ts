import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { INTERNAL_AUDIENCE } from '@authlab/contract'
import { freePort } from '@authlab/servers'
import { createSigner } from 'fast-jwt'

/** What the tests' tokens carry and the verifiers expect. */
export const ISSUER = 'authlab'
export const AUDIENCE = 'authlab-api'

export interface Key {
  kid: string
  /** The payload's `roles` default to none, as auth writes them for a user without roles. */
  sign: (payload: object) => string
  /** No expiresIn: the payload's iat and exp are taken as they are. */
  signRaw: (payload: object) => string
  /** As `sign`, with the phantom exchange's internal audience instead of the public one. */
  signInternal: (payload: object) => string
  jwk: object
}

/** An Ed25519 signing key as auth's: tokens typed at+jwt, its public JWK published under its kid. */
export function newKey(): Key {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const kid = randomUUID()
  const base = {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    algorithm: 'EdDSA' as const,
    kid,
    header: { alg: 'EdDSA', typ: 'at+jwt' },
    iss: ISSUER,
    aud: AUDIENCE,
  }
  const signer = createSigner({ ...base, expiresIn: 60_000 })
  const signRaw = createSigner(base)
  const internal = createSigner({ ...base, aud: INTERNAL_AUDIENCE, expiresIn: 10_000 })
  return {
    kid,
    sign: (payload) => signer({ roles: [], ...payload }),
    signRaw: (payload) => signRaw({ roles: [], ...payload }),
    signInternal: (payload) => internal({ roles: [], ...payload }),
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' },
  }
}

/** A static JWKS over HTTP on 127.0.0.1, answering with `keys()` at the time of each request. */
export async function serveJwks(keys: () => object[]) {
  let requests = 0
  const server = createServer((_req, res) => {
    requests++
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ keys: keys() }))
  })
  const port = await freePort()
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    /** How many times the key set was fetched. */
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
