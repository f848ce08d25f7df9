import { randomUUID } from 'node:crypto'
import { type IncomingMessage, STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'

// nginx's $request_id is 32 hex digits; accept any short token-like id, never arbitrary text in logs.
const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/

/**
 * The request id: the gateway's X-Request-Id when it looks like one, otherwise a fresh UUID. It is
 * every log line's `requestId` and every error body's, so one id leads from nginx to the replica.
 */
export function requestId(req: IncomingMessage): string {
  const header = req.headers['x-request-id']
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID()
}

/**
 * The one error handler of every service. The body: `statusCode`, `code` (AUTHLAB_… for our errors,
 * FST_… for the framework's), `error` (the status text of RFC 9110, from node:http), `message`
 * (never an internal detail: a 5xx says only its status text, except authlab's own 503s) and `requestId`. Client errors
 * are logged at info and 503s at warn, each with its reason and its cause; anything else at error
 * with the whole error. `map` turns library errors into ours first (a store outage
 * into a 503).
 */
export function errorHandler(opts: { map?: (error: unknown) => unknown } = {}) {
  return function handleError(raw: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    const error = (opts.map ? opts.map(raw) : raw) as FastifyError
    const status = error.validation ? 400 : (error.statusCode ?? 500)
    const statusCode = status >= 400 && status <= 599 ? status : 500
    const code = error.code ?? (error.validation ? 'FST_ERR_VALIDATION' : 'AUTHLAB_INTERNAL')
    // The client gets one reason ("invalid token"); the log also gets the cause (which check failed).
    const cause = (error.cause as Error | undefined)?.message
    const fields = { code, statusCode, ...(cause ? { cause } : {}) }
    if (statusCode < 500) request.log.info(fields, error.message)
    else if (statusCode === 503) {
      request.log.warn(fields, error.message)
      if (!reply.hasHeader('retry-after')) reply.header('retry-after', '1')
    } else request.log.error({ err: raw }, 'request failed')
    return reply.code(statusCode).send({
      statusCode,
      code,
      error: STATUS_CODES[statusCode] ?? 'Error',
      // A 5xx says only its status text, unless it is one of ours saying which store is down.
      message:
        statusCode < 500 || (statusCode === 503 && code.startsWith('AUTHLAB_'))
          ? error.message
          : (STATUS_CODES[statusCode] ?? 'Internal Server Error'),
      requestId: request.id,
    })
  }
}

/** The error body, as OpenAPI documents it for every route of every service. */
export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String({ description: 'AUTHLAB_… for authlab errors, FST_… for the framework' }),
    error: Type.String({ description: 'the HTTP status text' }),
    message: Type.String(),
    requestId: Type.String({ description: "the gateway's X-Request-Id, or one the service made" }),
  },
  { $id: 'ErrorBody' },
)
