import { generateKeyPairSync, randomBytes } from 'node:crypto'

/**
 * Peer services: behind the same gateway and on the same Redis as orders and profile, but not
 * verifiers of authlab's modes (DOWNSTREAM_SERVICES in @authlab/contract means "serves every mode").
 * `textbook` (services/textbook) is the tutorial code the introductory articles teach, run as a
 * baseline beside the modes (issue 28). The runner starts them only when asked (ClusterOptions.peers),
 * but the gateway always routes them: one not started answers 502, like a listed service with no replica.
 */
export const PEER_SERVICES = ['textbook'] as const

export type PeerService = (typeof PEER_SERVICES)[number]

/** How a probe reaches the textbook peer through the gateway (its routes, its credentials). */
export const TEXTBOOK = {
  service: 'textbook',
  /** POST {email, password} (authlab's users): a `connect.sid` cookie and `{ token }` (ES256 JWT). */
  login: '/textbook/login',
  /** POST: destroys this session only; the JWT stays valid until its `exp`. */
  logout: '/textbook/logout',
  /** express-session's default cookie name, as the tutorials leave it. */
  sessionCookie: 'connect.sid',
  /** GET: 200 {sub, replica} or 401; x-replica names the replica (EXPOSE_REPLICA). */
  healthz: '/textbook/healthz',
  /**
   * The two rows a probe or the bench measures beside the modes: the tutorial session (the cookie)
   * and the tutorial JWT (`Authorization: Bearer <token>`).
   */
  probes: [
    { name: 'textbook-session', path: '/textbook/session/me', credential: 'cookie' },
    { name: 'textbook-jwt', path: '/textbook/jwt/me', credential: 'bearer' },
  ],
} as const

/**
 * What every replica of a peer must share, made fresh for each cluster: textbook's ES256 signing
 * key (PKCS#8 PEM; each replica derives the public key from it) and its session cookie secret.
 */
export function peerSecrets(): Record<string, string> {
  const { privateKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  })
  return {
    TEXTBOOK_JWT_PRIVATE_KEY: privateKey,
    TEXTBOOK_SESSION_SECRET: randomBytes(32).toString('base64url'),
  }
}
