// The textbook peer (services/textbook) as the bench sees it: its logins, the requests of its two
// rows, and which replicas answer them. It is a baseline measured beside the modes, not a mode.
import { TEXTBOOK } from '@authlab/cluster'
import { LOGIN_PASSWORD, MODES, PEER_ROWS } from '../lib/scenarios.js'
import { type Mode, requestPool } from './credentials.ts'
import type { PooledRequest } from './load.ts'

export type PeerRow = (typeof PEER_ROWS)[number]
/** A row of the sweep: a verification mode, or a peer row measured in the same windows. */
export type Row = Mode | PeerRow

/** One textbook login: its session cookie (as a Cookie header sends it) and its JWT. */
export interface TextbookLogin {
  cookie: string
  token: string
}

export const isPeerRow = (row: string): row is PeerRow => (PEER_ROWS as readonly string[]).includes(row)

/** The peer service that answers a peer row. */
export const PEER_SERVICE: Record<PeerRow, string> = {
  'textbook-session': TEXTBOOK.service,
  'textbook-jwt': TEXTBOOK.service,
}

function probe(row: PeerRow) {
  const p = TEXTBOOK.probes.find((x) => x.name === row)
  // PEER_ROWS (scenarios.js, which imports nothing) names the rows @authlab/cluster defines.
  if (!p) throw new Error(`${row} is not one of TEXTBOOK.probes`)
  return p
}

/** The path a peer row is served on, through the gateway. */
export const peerPath = (row: PeerRow): string => probe(row).path

/** Headers carrying a textbook login's credential the way `row` reads it. */
export function peerHeaders(row: PeerRow, l: TextbookLogin): Record<string, string> {
  return probe(row).credential === 'cookie' ? { cookie: l.cookie } : { authorization: `Bearer ${l.token}` }
}

/** POST /textbook/login as the tutorials write it: a `connect.sid` cookie and `{ token }`. */
export async function textbookLogin(base: string, email: string): Promise<TextbookLogin> {
  const res = await fetch(`${base}${TEXTBOOK.login}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: LOGIN_PASSWORD }),
  })
  if (res.status !== 200) throw new Error(`textbook login ${email}: ${res.status} ${await res.text()}`)
  const prefix = `${TEXTBOOK.sessionCookie}=`
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith(prefix))
  if (!cookie) throw new Error(`textbook login ${email}: no ${TEXTBOOK.sessionCookie} cookie`)
  const { token } = (await res.json()) as { token: string }
  return { cookie: cookie.split(';')[0]!, token }
}

/** POST /textbook/logout with a login's cookie: ends that session only. */
export async function textbookLogout(base: string, l: TextbookLogin): Promise<void> {
  const res = await fetch(`${base}${TEXTBOOK.logout}`, { method: 'POST', headers: { cookie: l.cookie } })
  await res.arrayBuffer()
  if (res.status !== 204) throw new Error(`textbook logout: ${res.status}`)
}

/** One textbook login per e-mail, a few at a time (each is an argon2 check in the peer). */
export async function textbookLogins(base: string, emails: readonly string[]): Promise<TextbookLogin[]> {
  const logins: TextbookLogin[] = []
  for (let i = 0; i < emails.length; i += 8)
    logins.push(...(await Promise.all(emails.slice(i, i + 8).map((e) => textbookLogin(base, e)))))
  return logins
}

/** A credential pool that may carry textbook logins beside authlab's. */
type RowPool = Parameters<typeof requestPool>[1] & { textbook?: TextbookLogin[] }

/** Requests for one row over a pool: a mode's as requestPool makes them, a peer row's on its peer. */
export function rowPool(row: Row, pool: RowPool): PooledRequest[] {
  if (!isPeerRow(row)) return requestPool(row, pool)
  if (!pool.textbook?.length) throw new Error(`${row}: the pool has no textbook logins`)
  return pool.textbook.map((l) => ({ path: peerPath(row), headers: peerHeaders(row, l) }))
}

/** The rows a cluster can measure: every mode, and the peer rows where the peer runs. */
export function rowsOf(withPeer: boolean): readonly Row[] {
  return withPeer ? [...MODES, ...PEER_ROWS] : MODES
}
