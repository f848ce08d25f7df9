// The authlab browser demo: no framework, no build step. Served by the gateway at /demo/ under a
// CSP that allows only this script and requests to the same origin.

const SERVICE = 'orders'
const MODES = ['session', 'session-cached', 'jwt', 'jwt-denylist', 'jwt-pushed', 'introspect']
// Cookie modes send nothing but the HttpOnly session cookie the browser holds; the others send the
// access token as a Bearer header.
const COOKIE_MODES = new Set(['session', 'session-cached'])
const POLL_MS = 100

const $ = (id) => document.getElementById(id)
const state = {
  accessToken: null,
  expiresAt: 0,
  /** mode → replica → { status, at } */
  last: new Map(MODES.map((m) => [m, new Map()])),
  /** mode → time of the last 200 after logout-all */
  lastAcceptedAfter: new Map(),
  replicas: [],
  revokedAt: null,
  timer: null,
}

function shuffled(list) {
  const copy = [...list]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j], copy[i]]
  }
  return copy
}

function say(text) {
  $('status').textContent = text
}

async function postJson(path, body, headers = {}) {
  return fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  })
}

async function login(email, password) {
  const res = await postJson('/auth/login', { email, password })
  const body = await res.json().catch(() => ({}))
  if (res.status === 429)
    throw new Error(`too many attempts: try again in ${res.headers.get('retry-after') ?? 'a few'} s`)
  if (!res.ok) throw new Error(body.message ?? `login answered ${res.status}`)
  state.accessToken = body.accessToken
  state.expiresAt = Date.now() + body.expiresIn * 1000
  start()
}

async function newDemoUser() {
  const email = `demo-${crypto.randomUUID()}@example.test`
  const password = crypto.randomUUID()
  const res = await postJson('/auth/register', { email, password })
  if (res.status !== 201) throw new Error(`register answered ${res.status}`)
  await login(email, password)
}

function buildRows() {
  const rows = $('rows')
  rows.replaceChildren()
  for (const mode of MODES) {
    const tr = document.createElement('tr')
    tr.dataset.mode = mode
    tr.innerHTML = '<th scope="row"></th><td class="how"></td><td class="window">–</td>'
    tr.querySelector('th').textContent = mode
    tr.querySelector('.how').textContent = COOKIE_MODES.has(mode) ? 'HttpOnly cookie' : 'Bearer token'
    rows.append(tr)
  }
}

function addReplicaColumn(replica) {
  state.replicas.push(replica)
  state.replicas.sort()
  const index = state.replicas.indexOf(replica)
  const th = document.createElement('th')
  th.textContent = replica
  const head = $('head')
  head.insertBefore(th, head.children[2 + index] ?? null)
  for (const tr of $('rows').children) {
    const td = document.createElement('td')
    td.className = 'cell'
    td.dataset.replica = replica
    tr.insertBefore(td, tr.children[2 + index] ?? null)
  }
}

async function probe(mode) {
  const headers = COOKIE_MODES.has(mode) ? {} : { authorization: `Bearer ${state.accessToken}` }
  // The window counts requests by when they started: one sent before logout-all returned may still
  // be answered 200 after it, as the claim allows.
  const started = performance.now()
  const res = await fetch(`/${SERVICE}/${mode}/me`, {
    headers,
    credentials: 'same-origin',
    cache: 'no-store',
  })
  await res.body?.cancel()
  const replica = res.headers.get('x-replica') ?? 'gateway'
  const at = performance.now()
  if (!state.replicas.includes(replica)) addReplicaColumn(replica)
  state.last.get(mode).set(replica, { status: res.status, at })
  if (state.revokedAt !== null && started > state.revokedAt && res.status === 200)
    state.lastAcceptedAfter.set(mode, started)
}

function render() {
  const now = performance.now()
  for (const tr of $('rows').children) {
    const mode = tr.dataset.mode
    const seen = state.last.get(mode)
    let accepted = 0
    let refused = 0
    for (const td of tr.querySelectorAll('td.cell')) {
      const last = seen.get(td.dataset.replica)
      if (!last) continue
      td.className = `cell ${last.status === 200 ? 'ok' : last.status === 401 ? 'refused' : 'unavailable'}`
      td.textContent = `${last.status} · ${Math.round(now - last.at)} ms ago`
      if (last.status === 200) accepted++
      if (last.status === 401) refused++
    }
    tr.dataset.state =
      refused > 0 && accepted === 0 ? 'refused' : accepted > 0 && refused === 0 ? 'accepted' : 'mixed'
    if (state.revokedAt === null) continue
    const window = tr.querySelector('.window')
    const lastOk = state.lastAcceptedAfter.get(mode)
    const windowMs = lastOk === undefined ? 0 : Math.round(lastOk - state.revokedAt)
    if (tr.dataset.state === 'refused') {
      tr.dataset.windowMs = String(windowMs)
      window.textContent =
        windowMs === 0 ? 'refused at once (0 ms)' : `accepted for ${windowMs} ms, then refused`
    } else {
      delete tr.dataset.windowMs
      const left = Math.max(0, Math.round((state.expiresAt - Date.now()) / 1000))
      window.textContent =
        mode === 'jwt'
          ? `still accepted: until the token expires (${left} s)`
          : `still accepted after ${Math.round(now - state.revokedAt)} ms`
    }
  }
}

function start() {
  $('login').hidden = true
  $('board').hidden = false
  buildRows()
  say('Logged in. Every cell is the last answer of that replica for that mode.')
  let busy = false
  showAccount().catch((err) => sayAccount(err.message))
  state.timer = setInterval(async () => {
    if (busy) return
    busy = true
    try {
      // nginx deals requests to the replicas in turn: in a fixed order, each mode would always meet
      // the same replica. A fresh order every round lets every mode meet every replica.
      await Promise.all(shuffled(MODES).map(probe))
      render()
    } catch (err) {
      say(`probe failed: ${err.message}`)
    } finally {
      busy = false
    }
  }, POLL_MS)
}

async function logoutAll() {
  $('logout-all').disabled = true
  // As if from another device: this login's token revokes every login of the user, and the answer's
  // cookie-clearing headers are not applied here (credentials: 'omit'). So this browser goes on
  // presenting its now-revoked cookie and token, as anyone holding a copy of them would.
  const res = await fetch('/auth/logout-all', {
    method: 'POST',
    headers: { authorization: `Bearer ${state.accessToken}` },
    credentials: 'omit',
  })
  if (res.status !== 204) {
    $('logout-all').disabled = false
    return say(`logout-all answered ${res.status}`)
  }
  state.revokedAt = performance.now()
  document.body.dataset.revoked = 'true'
  say('logout-all answered 204. This browser keeps presenting the revoked credentials: watch each mode turn.')
  // This browser's login is revoked too: the account routes now refuse its cookie.
  await showAccount().catch((err) => sayAccount(`This login has ended: ${err.message}`))
}

// The account routes read this browser's HttpOnly cookies; a state-changing one (DELETE, POST) must
// also carry this header, which a cross-site form cannot send (docs/auth-api.md, Cookies and CSRF).
const CSRF_HEADER = { 'x-authlab-csrf': '1' }

async function account(method, path) {
  const res = await fetch(path, {
    method,
    headers: method === 'GET' ? {} : CSRF_HEADER,
    credentials: 'same-origin',
    cache: 'no-store',
  })
  const body = res.status === 204 ? null : await res.json().catch(() => ({}))
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${body?.message ?? res.statusText}`)
  return body
}

function sayAccount(text) {
  $('sessions-status').textContent = text
}

const when = (iso) => new Date(iso).toLocaleString()

function sessionRow(session) {
  const tr = document.createElement('tr')
  tr.dataset.id = session.id
  tr.dataset.current = String(session.current)
  tr.innerHTML =
    '<td class="id"><code></code></td><td></td><td></td><td class="agent"></td><td></td><td class="action"></td>'
  const cells = tr.querySelectorAll('td')
  cells[0].querySelector('code').textContent = session.id.slice(0, 8)
  cells[0].title = session.id
  if (session.current) {
    const mark = document.createElement('span')
    mark.className = 'current'
    mark.textContent = 'this browser'
    cells[0].append(' ', mark)
  }
  cells[1].textContent = when(session.createdAt)
  cells[2].textContent = when(session.lastUsedAt)
  cells[3].textContent = session.userAgent ?? '–'
  cells[3].title = session.userAgent ?? ''
  cells[4].textContent = session.address ?? '–'
  if (!session.current) {
    const end = document.createElement('button')
    end.type = 'button'
    end.className = 'end'
    end.textContent = 'end'
    end.addEventListener(
      'click',
      guard(() =>
        act(
          `Ended session ${session.id.slice(0, 8)}`,
          'DELETE',
          `/auth/sessions/${encodeURIComponent(session.id)}`,
        ),
      ),
    )
    cells[5].append(end)
  }
  return tr
}

/** Shows the caller (GET /auth/me) and their live logins (GET /auth/sessions), freshly read. */
async function showAccount() {
  $('account').hidden = false
  try {
    const [me, list] = await Promise.all([account('GET', '/auth/me'), account('GET', '/auth/sessions')])
    $('me').textContent = me.roles.length > 0 ? `${me.username} (${me.roles.join(', ')})` : me.username
    $('sessions').replaceChildren(...list.sessions.map(sessionRow))
    $('logout-others').disabled = list.sessions.every((s) => s.current)
    $('account').dataset.state = 'listed'
  } catch (err) {
    $('sessions').replaceChildren()
    $('logout-others').disabled = true
    $('account').dataset.state = 'failed'
    throw err
  } finally {
    $('refresh-sessions').disabled = false
  }
}

/** One state-changing account call, then the list as it now stands. */
async function act(done, method, path) {
  for (const button of $('account').querySelectorAll('button')) button.disabled = true
  try {
    await account(method, path)
    sayAccount(`${done}.`)
  } catch (err) {
    sayAccount(err.message)
  }
  await showAccount().catch((err) => sayAccount(err.message))
}

function guard(fn) {
  return (event) => {
    event?.preventDefault()
    fn(event).catch((err) => say(err.message))
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('login').addEventListener(
    'submit',
    guard(async (event) => {
      const form = new FormData(event.target)
      await login(String(form.get('email')), String(form.get('password')))
    }),
  )
  $('new-user').addEventListener('click', guard(newDemoUser))
  $('logout-all').addEventListener('click', guard(logoutAll))
  $('refresh-sessions').addEventListener(
    'click',
    guard(async () => {
      sayAccount('')
      await showAccount().catch((err) => sayAccount(err.message))
    }),
  )
  $('logout-others').addEventListener(
    'click',
    guard(() => act('Logged out every other session', 'POST', '/auth/logout-others')),
  )
})
