import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  assertCsrfProof,
  type CredentialSource,
  CSRF_HEADER,
  CsrfHeaderMissingError,
  csrfProofRequired,
  type PresentedCredential,
  presentedCredential,
} from '../src/index.ts'

const JWT = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl'
const COOKIE = 'from-the-cookie'

test('presentedCredential: Bearer per RFC 6750 §2.1, else the cookie', () => {
  const table: [string | undefined, string | undefined, PresentedCredential][] = [
    // The scheme is case-insensitive; the token is one token68 (padding `=` at its end only).
    [`Bearer ${JWT}`, COOKIE, { source: 'bearer', token: JWT }],
    [`bearer ${JWT}`, undefined, { source: 'bearer', token: JWT }],
    [`BEARER ${JWT}`, undefined, { source: 'bearer', token: JWT }],
    [`bEaReR ${JWT}`, undefined, { source: 'bearer', token: JWT }],
    ['Bearer abc-._~+/==', undefined, { source: 'bearer', token: 'abc-._~+/==' }],
    // 1*SP between scheme and token (RFC 6750's grammar).
    [`Bearer  ${JWT}`, undefined, { source: 'bearer', token: JWT }],
    // Bearer named but not `Bearer <token68>`: malformed, and never the cookie instead.
    ['Bearer', COOKIE, { source: 'malformed' }],
    ['Bearer ', COOKIE, { source: 'malformed' }],
    ['Bearer    ', COOKIE, { source: 'malformed' }],
    [`Bearer ${JWT} extra`, COOKIE, { source: 'malformed' }],
    [`Bearer ${JWT} `, COOKIE, { source: 'malformed' }],
    [`Bearer\t${JWT}`, COOKIE, { source: 'malformed' }],
    ['Bearer a=b', COOKIE, { source: 'malformed' }],
    ['Bearer a,b', COOKIE, { source: 'malformed' }],
    ['Bearer "quoted"', COOKIE, { source: 'malformed' }],
    // Another scheme is not ours: the cookie decides.
    ['Basic dTpw', COOKIE, { source: 'cookie', token: COOKIE }],
    ['Basic dTpw', undefined, { source: 'none' }],
    [`Bearerx ${JWT}`, COOKIE, { source: 'cookie', token: COOKIE }],
    [`Token ${JWT}`, COOKIE, { source: 'cookie', token: COOKIE }],
    [` Bearer ${JWT}`, COOKIE, { source: 'cookie', token: COOKIE }],
    // No Authorization header, or an empty one: the cookie, or nothing.
    [undefined, COOKIE, { source: 'cookie', token: COOKIE }],
    ['', COOKIE, { source: 'cookie', token: COOKIE }],
    [undefined, undefined, { source: 'none' }],
    [undefined, '', { source: 'none' }],
    ['', '', { source: 'none' }],
  ]
  for (const [authorization, cookie, expected] of table) {
    assert.deepEqual(
      presentedCredential(authorization, cookie),
      expected,
      `${JSON.stringify(authorization)} with cookie ${JSON.stringify(cookie)}`,
    )
  }
})

test('csrfProofRequired: a state-changing request authenticated by cookie, and nothing else', () => {
  const table: [string, CredentialSource | 'malformed', boolean][] = [
    ['POST', 'cookie', true],
    ['PUT', 'cookie', true],
    ['PATCH', 'cookie', true],
    ['DELETE', 'cookie', true],
    ['QUERY', 'cookie', true],
    // Method names are case-sensitive: `get` is not GET.
    ['get', 'cookie', true],
    ['GET', 'cookie', false],
    ['HEAD', 'cookie', false],
    ['OPTIONS', 'cookie', false],
    ['POST', 'bearer', false],
    ['DELETE', 'bearer', false],
    ['POST', 'none', false],
    ['POST', 'malformed', false],
    ['GET', 'bearer', false],
  ]
  for (const [method, source, expected] of table) {
    assert.equal(csrfProofRequired(method, source), expected, `${method} by ${source}`)
  }
})

test('assertCsrfProof: 403 AUTHLAB_CSRF_HEADER_MISSING naming the header, unless it is there or not needed', () => {
  assert.throws(
    () => assertCsrfProof('POST', 'cookie', {}),
    (err: Error & { code?: string; statusCode?: number }) => {
      assert.ok(err instanceof CsrfHeaderMissingError)
      assert.equal(err.code, 'AUTHLAB_CSRF_HEADER_MISSING')
      assert.equal(err.statusCode, 403)
      assert.equal(
        err.message,
        `A state-changing request authenticated by cookie must carry the ${CSRF_HEADER} header`,
      )
      return true
    },
  )
  assert.equal(CSRF_HEADER, 'x-authlab-csrf')
  // Any value proves it: a cross-site form cannot set the header at all.
  assert.doesNotThrow(() => assertCsrfProof('POST', 'cookie', { [CSRF_HEADER]: '1' }))
  assert.doesNotThrow(() => assertCsrfProof('POST', 'cookie', { [CSRF_HEADER]: '' }))
  assert.doesNotThrow(() => assertCsrfProof('GET', 'cookie', {}))
  assert.doesNotThrow(() => assertCsrfProof('POST', 'bearer', {}))
  assert.doesNotThrow(() => assertCsrfProof('POST', 'none', {}))
  // Combined: the credential rule's source decides the CSRF rule.
  const basicWithCookie = presentedCredential('Basic dTpw', COOKIE)
  assert.throws(() => assertCsrfProof('POST', basicWithCookie.source, {}), CsrfHeaderMissingError)
  const bearerWithCookie = presentedCredential(`Bearer ${JWT}`, COOKIE)
  assert.doesNotThrow(() => assertCsrfProof('POST', bearerWithCookie.source, {}))
})
