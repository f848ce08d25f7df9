import type { FastifyServerOptions } from 'fastify'

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
