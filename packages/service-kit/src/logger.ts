import { type FastifyServerOptions, LogController } from 'fastify'
import { errorHandler, requestId } from './http.ts'

/**
 * One logger shape for every service: JSON lines with the service and replica named, and the
 * credentials we handle never written out.
 */
export function loggerOptions(opts: {
  level: string
  service: string
  replica?: string
}): NonNullable<FastifyServerOptions['logger']> {
  return {
    level: opts.level,
    base: { service: opts.service, ...(opts.replica ? { replica: opts.replica } : {}) },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        'password',
        'refreshToken',
        'accessToken',
      ],
      censor: '[redacted]',
    },
  }
}

/**
 * Server options every service shares: trusted proxies, body limit, and explicit timeouts. The
 * keep-alive outlives nginx's upstream keepalive_timeout (60 s), so nginx, not node, closes idle
 * upstream connections and never sends a request into a socket node is closing.
 */
export function serverOptions(config: {
  LOG_LEVEL: string
  TRUST_PROXY: string
  BODY_LIMIT_BYTES: number
  service: string
  replica?: string
}) {
  return {
    logger: loggerOptions({ level: config.LOG_LEVEL, service: config.service, replica: config.replica }),
    trustProxy: config.TRUST_PROXY,
    bodyLimit: config.BODY_LIMIT_BYTES,
    genReqId: requestId,
    // A URL the router refuses before any route (a bad percent-escape, an over-long parameter) is
    // answered by the one error handler too, with the same body and request id.
    frameworkErrors: errorHandler(),
    // Every log line names the request as the error bodies do, under one label.
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    connectionTimeout: 30_000,
    keepAliveTimeout: 65_000,
    requestTimeout: 15_000,
    // On SIGTERM, drain: requests already on a connection are served, idle keep-alive sockets are
    // closed. A 503 here would reach the client (nginx rightly does not retry 503s); a closed socket
    // makes nginx retry the request on another replica.
    return503OnClosing: false,
    forceCloseConnections: 'idle' as const,
  } satisfies FastifyServerOptions
}
