// The size section of results.json (loadtest/src/size.ts measures it): what each credential weighs,
// and the bytes each mode's request and response carried through the gateway.
import { type Static, Type } from 'typebox'

const Bytes = Type.Integer({ minimum: 0 })

export const SizeRun = Type.Object(
  {
    /** the session cookie from a real login through the gateway */
    sessionCookie: Type.Object(
      {
        name: Type.String(),
        /** `name=value`, as a client sends it back in its Cookie header */
        pairBytes: Bytes,
        /** the whole Set-Cookie header line auth sent (name, value and attributes) */
        setCookieBytes: Bytes,
      },
      { additionalProperties: false },
    ),
    /** the claims of that login's access token, as auth issued it */
    claims: Type.Array(Type.String()),
    /** the cluster's own access token, as issued (its algorithm, its `Bearer` header) */
    issued: Type.Object(
      { algorithm: Type.String(), tokenBytes: Bytes, authorizationBytes: Bytes },
      { additionalProperties: false },
    ),
    /** the issued token's header and claims signed again per algorithm, as claims are added */
    tokens: Type.Array(
      Type.Object(
        {
          algorithm: Type.String(),
          /** `current`, `+tenant`, `+10 claims`, `+50 claims` */
          claims: Type.String(),
          addedClaims: Bytes,
          tokenBytes: Bytes,
          /** `Authorization: Bearer <token>` as it travels in HTTP/1.1 (name, value, CRLF) */
          authorizationBytes: Bytes,
        },
        { additionalProperties: false },
      ),
    ),
    /**
     * The credential each mode's request carries, in bytes: the cookie pair (`sid=…`) or the access
     * token; `none` carries none. (`phantom` is given the session cookie; the gateway swaps it.)
     */
    credentialBytes: Type.Record(Type.String(), Bytes),
    /** per mode, from nginx's $request_length and $bytes_sent on the native gateway (plain HTTP) */
    wire: Type.Array(
      Type.Object(
        {
          mode: Type.String(),
          requests: Type.Integer({ minimum: 1 }),
          /** the median request as nginx read it: request line, headers (credential included), no body */
          requestBytes: Bytes,
          /** the median response as nginx wrote it: status line, headers, body */
          responseBytes: Bytes,
          /** statuses other than 200 among the logged requests */
          failed: Bytes,
        },
        { additionalProperties: false },
      ),
    ),
    /** why `wire` is empty, when it is (no native cluster: against --gateway) */
    wireSkipped: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)
export type SizeRun = Static<typeof SizeRun>
