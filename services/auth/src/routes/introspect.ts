import { createHash, timingSafeEqual } from 'node:crypto'
import type { AccessClaims } from '@authlab/contract'
import { tokenFacts } from '@authlab/revocation'
import formbody from '@fastify/formbody'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuthConfig } from '../config.ts'
import { IntrospectionClientError, RateLimitedError } from '../errors.ts'
import { clientKey } from '../plugins/app/login-throttle.ts'
import { limitKeys, refuseWhenExceeded } from '../plugins/app/rate-limits.ts'
import { ErrorResponse, IntrospectBody, IntrospectResponse } from '../schemas/auth.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated introspection client's id (set on /auth/introspect only). */
    introspectionClient: string
  }
}

/** Every development secret authlab ships (contract, docker-compose.yml) carries this mark. */
const DEV_SECRET_MARK = 'dev-only-'

const digest = (secret: string) => createHash('sha256').update(secret).digest()

/** `id:secret,id:secret` (validated by the config schema) → id → SHA-256 of the secret. */
export function parseClients(list: string): Map<string, Buffer> {
  const clients = new Map<string, Buffer>()
  for (const pair of list.split(',')) {
    const colon = pair.indexOf(':')
    clients.set(pair.slice(0, colon), digest(pair.slice(colon + 1)))
  }
  return clients
}

/** RFC 6749 §2.3.1: base64 of `urlencoded(id):urlencoded(secret)`; undefined if malformed. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header?.slice(0, 6).toLowerCase().startsWith('basic ')) return undefined
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 1) return undefined
  const form = new URLSearchParams(`id=${decoded.slice(0, colon)}&secret=${decoded.slice(colon + 1)}`)
  const id = form.get('id')
  const secret = form.get('secret')
  return id && secret ? { id, secret } : undefined
}

// Failed client authentications, counted in Redis (shared by every replica) over a fixed minute,
// per presented client id and per caller address. An attempt is refused (429) when its own (id,
// address) pair has failed in the minute and either count is past its limit: a guesser waits,
// right secret or not, while a client that has not failed from its address is still judged, so
// nobody locks a client out by failing against its id (the LoginThrottle rule, for clients).
// Every attempt is judged by one Redis round trip of the same shape whatever its secret, so
// neither the answer nor its timing says whether a refused secret was right. Client ids are not
// secrets (RFC 6749 §2.2); unknown ones share one count, so made-up ids cannot fill Redis.
const FAILURE_WINDOW_MS = 60_000
const FAILURES = 'authlab:rl:introspect-fail:'
const UNKNOWN_CLIENT = 'unknown'

/**
 * The address's failures: one hash, a field per client id it presented and `#total`.
 * KEYS: the address's hash. ARGV: the client's field, 'fail' (count this attempt) or 'peek', the
 * window in ms. Returns the failures before this attempt (on that client, in all) and the ms left.
 */
const ADDRESS_FAILURES = `
local pair, total
if ARGV[2] == 'fail' then
  pair = redis.call('HINCRBY', KEYS[1], ARGV[1], 1) - 1
  total = redis.call('HINCRBY', KEYS[1], '#total', 1) - 1
else
  pair = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
  total = tonumber(redis.call('HGET', KEYS[1], '#total') or '0')
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  ttl = tonumber(ARGV[3])
end
return {pair, total, ttl}`

/** A client id's failures from every address. KEYS: its counter. ARGV: 'fail' or 'peek', the window. */
const CLIENT_FAILURES = `
local n
if ARGV[1] == 'fail' then
  n = redis.call('INCR', KEYS[1]) - 1
else
  n = tonumber(redis.call('GET', KEYS[1]) or '0')
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {n, ttl}`

/**
 * RFC 7662 token introspection for the downstream services. It is not a public endpoint: callers
 * authenticate as clients (HTTP Basic), failed authentications are limited per client id and per
 * address, each client is rate-limited, and the gateway does not route it (downstream services
 * call AUTH_URL directly). Form-urlencoded bodies as the RFC specifies; JSON is accepted too.
 */
export default async function introspectRoutes(fastify: FastifyInstance, opts: { config: AuthConfig }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { config } = opts
  const clients = parseClients(config.INTROSPECTION_CLIENTS)
  if (config.INTROSPECTION_CLIENTS.includes(DEV_SECRET_MARK)) {
    fastify.log.warn(
      'INTROSPECTION_CLIENTS holds development secrets: set real ones in any shared deployment',
    )
  }
  // Compared against when the id is unknown, so an unknown id costs what a wrong secret costs.
  const decoy = digest('')

  fastify.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
  })
  await app.register(formbody, { bodyLimit: config.BODY_LIMIT_BYTES })
  app.decorateRequest('introspectionClient', '')

  /**
   * Judges one attempt against the failure limits, counting it if it failed: the seconds to wait
   * (429), or 0. `id` is the presented client id if it is configured, else undefined.
   */
  const failureLimits = async (request: FastifyRequest, id: string | undefined, failed: boolean) => {
    const subject = id === undefined ? UNKNOWN_CLIENT : `id=${id}`
    // The connection's own address: introspection never comes through the gateway, and
    // X-Forwarded-For from anywhere TRUST_PROXY believes would give a fresh count per value.
    const address = clientKey(request.socket?.remoteAddress ?? request.ip)
    const addressKey = `${FAILURES}address:${address}`
    const mode = failed ? 'fail' : 'peek'
    const [[pair, total, addressTtl], [clientFailures, clientTtl]] = (await Promise.all([
      fastify.redis.eval(ADDRESS_FAILURES, 1, addressKey, subject, mode, FAILURE_WINDOW_MS),
      fastify.redis.eval(CLIENT_FAILURES, 1, `${FAILURES}client:${subject}`, mode, FAILURE_WINDOW_MS),
    ])) as [[number, number, number], [number, number]]
    const addressOver = total >= config.INTROSPECTION_AUTH_FAILURES_PER_IP
    const clientOver = clientFailures >= config.INTROSPECTION_AUTH_FAILURES_PER_CLIENT
    if (pair > 0 && (addressOver || clientOver)) {
      const waitMs = addressOver ? addressTtl : Math.min(addressTtl, clientTtl)
      return Math.max(1, Math.ceil(waitMs / 1000))
    }
    if (failed) {
      // Once per limit and minute: a client with a stale secret shows here before its 429s do.
      const client = id ?? '(unknown ids)'
      if (clientFailures + 1 === config.INTROSPECTION_AUTH_FAILURES_PER_CLIENT)
        request.log.warn(
          { client, address },
          'introspection client reached INTROSPECTION_AUTH_FAILURES_PER_CLIENT',
        )
      if (total + 1 === config.INTROSPECTION_AUTH_FAILURES_PER_IP)
        request.log.warn(
          { client, address },
          'introspection caller reached INTROSPECTION_AUTH_FAILURES_PER_IP',
        )
    } else if (pair > 0) {
      // The right secret, judged: this address's failures on the client are forgiven.
      await fastify.redis.hdel(addressKey, subject)
    }
    return 0
  }

  const authenticateClient = async (request: FastifyRequest, reply: FastifyReply) => {
    const presented = basicCredentials(request.headers.authorization)
    const expected = presented && clients.get(presented.id)
    const matches = timingSafeEqual(digest(presented?.secret ?? ''), expected ?? decoy)
    const id = presented && expected ? presented.id : undefined
    const authenticated = id !== undefined && matches
    // The comparison's outcome is answered only once the limits have judged the attempt.
    const wait = await failureLimits(request, id, !authenticated)
    if (wait > 0) {
      reply.header('retry-after', wait)
      throw new RateLimitedError(wait)
    }
    if (!authenticated) {
      reply.header('www-authenticate', 'Basic realm="authlab-introspection", charset="UTF-8"')
      throw new IntrospectionClientError()
    }
    request.introspectionClient = id
  }

  const perClient = fastify.createRateLimit({
    max: config.INTROSPECTION_RATE_LIMIT_PER_CLIENT,
    timeWindow: 60_000,
    keyGenerator: limitKeys.introspectionClient,
  })
  const clientLimit = refuseWhenExceeded(perClient)

  app.post(
    '/auth/introspect',
    {
      onRequest: authenticateClient,
      preHandler: clientLimit,
      schema: {
        tags: ['auth'],
        security: [{ introspectionClient: [] }],
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        body: IntrospectBody,
        response: {
          200: IntrospectResponse,
          400: ErrorResponse,
          401: ErrorResponse,
          429: ErrorResponse,
          503: ErrorResponse,
        },
      },
    },
    async (request) => {
      // token_type_hint needs no lookup order: the token's shape decides exactly which store to
      // ask (a JWT has dots; session ids and refresh tokens, base64url, have none), so a wrong
      // hint costs nothing and changes nothing. Refresh tokens look like session ids and are not
      // in the session store: they are answered inactive, hinted or not, so no downstream service
      // takes one for a bearer credential (they are for /auth/refresh only).
      const { token } = request.body
      if (token.includes('.')) {
        let claims: AccessClaims
        try {
          claims = fastify.keys.verify(token)
        } catch {
          return { active: false }
        }
        if (await fastify.revocationReader.isRevoked(tokenFacts(claims))) return { active: false }
        return { active: true, ...claims, token_type: 'access_token' }
      }
      const session = await fastify.credentials.sessionLogin(token)
      if (!session) return { active: false }
      // Not awaited: a session is answered from Redis, and Postgres' trouble must not slow it.
      void fastify.credentials.used(session.loginId)
      return {
        active: true,
        sub: session.userId,
        sid: session.loginId,
        roles: session.roles,
        exp: Math.floor(session.expiresAt / 1000),
        token_type: 'session',
      }
    },
  )
}
