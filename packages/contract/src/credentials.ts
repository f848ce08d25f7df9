import { CsrfHeaderMissingError } from './errors.ts'

/**
 * Where a request's credential came from, and so whether the browser could have attached it by
 * itself: it attaches cookies (and may attach an HTTP Basic header), never a Bearer token.
 */
export type CredentialSource = 'bearer' | 'cookie' | 'none'

/**
 * The credential a request presents: `bearer` or `cookie` with its token; `malformed` when the
 * Authorization header names the Bearer scheme but is not `Bearer <token68>` (a 401, never a fall
 * back to the cookie); `none` when there is neither.
 */
export type PresentedCredential =
  | { source: 'bearer'; token: string }
  | { source: 'cookie'; token: string }
  | { source: 'malformed' }
  | { source: 'none' }

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token, b64token being RFC 9110's token68.
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/

/**
 * The one credential-extraction rule of auth and the verifiers. `Authorization: Bearer <token>`
 * (RFC 6750 §2.1): the scheme is case-insensitive (RFC 9110 §11.1) and followed by one or more
 * spaces and exactly one token68, nothing else. An absent or empty Authorization header, or one of
 * another scheme (not ours: a browser may attach Basic by itself), leaves the credential to
 * `cookie`, the value of the cookie the caller reads (undefined or empty: none).
 */
export function presentedCredential(
  authorization: string | undefined,
  cookie: string | undefined,
): PresentedCredential {
  if (authorization) {
    const scheme = /^[^ \t]*/.exec(authorization)?.[0] ?? ''
    if (scheme.toLowerCase() === 'bearer') {
      const rest = authorization.slice(scheme.length)
      const token = rest.replace(/^ +/, '')
      if (token === rest || !TOKEN68.test(token)) return { source: 'malformed' }
      return { source: 'bearer', token }
    }
  }
  return cookie ? { source: 'cookie', token: cookie } : { source: 'none' }
}

/** Header a cookie-authenticated state-changing request must carry (CSRF defence, see README). */
export const CSRF_HEADER = 'x-authlab-csrf'

/**
 * The methods that change nothing, so need no CSRF proof whatever their credential. Method names are
 * case-sensitive (RFC 9110 §9.1): `get` is not GET, and needs the proof.
 */
export const CSRF_SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS'])

/** Whether `method` is one of CSRF_SAFE_METHODS: such a request needs no proof, whatever its credential. */
export function csrfSafeMethod(method: string): boolean {
  return CSRF_SAFE_METHODS.has(method)
}

/**
 * The CSRF rule: a state-changing request (any method but GET, HEAD and OPTIONS) whose credential
 * the browser attached by itself, a cookie, must also carry the CSRF_HEADER, which a cross-site form
 * cannot send and a cross-site script cannot without a CORS preflight that authlab never grants
 * (OWASP CSRF cheat sheet, custom request headers). A Bearer token is never attached by the browser;
 * a request with no credential (or a malformed one) is refused as unauthenticated anyway.
 */
export function csrfProofRequired(method: string, source: CredentialSource | 'malformed'): boolean {
  return source === 'cookie' && !csrfSafeMethod(method)
}

/** Throws CsrfHeaderMissingError (403) when the rule asks for the CSRF header and it is absent. */
export function assertCsrfProof(
  method: string,
  source: CredentialSource | 'malformed',
  headers: Readonly<Record<string, string | string[] | undefined>>,
): void {
  if (csrfProofRequired(method, source) && headers[CSRF_HEADER] === undefined) {
    throw new CsrfHeaderMissingError(CSRF_HEADER)
  }
}
