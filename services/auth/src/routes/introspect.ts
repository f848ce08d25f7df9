import { createHash, timingSafeEqual } from 'node:crypto'
import type { AccessClaims } from '@authlab/contract'
import { tokenFacts } from '@authlab/revocation'
import formbody from '@fastify/formbody'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuthConfig } from '../config.ts'
import { IntrospectionClientError, RateLimitedError } from '../errors.ts'
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

/**
 * RFC 7662 token introspection for the downstream services. It is not a public endpoint: callers
 * authenticate as clients (HTTP Basic), each client is rate-limited, and the gateway does not route
 * it (downstream services call AUTH_URL directly). Form-urlencoded bodies as the RFC specifies;
 * JSON is accepted too.
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

  const authenticateClient = async (request: FastifyRequest, reply: FastifyReply) => {
    const presented = basicCredentials(request.headers.authorization)
    const expected = presented && clients.get(presented.id)
    const matches = timingSafeEqual(digest(presented?.secret ?? ''), expected ?? decoy)
    if (!presented || !expected || !matches) {
      reply.header('www-authenticate', 'Basic realm="authlab-introspection", charset="UTF-8"')
      throw new IntrospectionClientError()
    }
    request.introspectionClient = presented.id
  }

  const perClient = fastify.createRateLimit({
    max: config.INTROSPECTION_RATE_LIMIT_PER_CLIENT,
    timeWindow: 60_000,
    keyGenerator: (request) => `introspect-client:${request.introspectionClient}`,
  })
  const clientLimit = async (request: FastifyRequest, reply: FastifyReply) => {
    const result = await perClient(request)
    if (!result.isAllowed && result.isExceeded) {
      reply.header('retry-after', result.ttlInSeconds)
      throw new RateLimitedError(result.ttlInSeconds)
    }
  }

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
      return {
        active: true,
        sub: session.userId,
        sid: session.loginId,
        exp: Math.floor(session.expiresAt / 1000),
        token_type: 'session',
      }
    },
  )
}
