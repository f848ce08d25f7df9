import { readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DOWNSTREAM_SERVICES } from '@authlab/contract'
import { PEER_SERVICES } from './peers.ts'

/** A file another workspace package exports, found through its manifest (never a relative path). */
const exported = (specifier: string) => fileURLToPath(import.meta.resolve(specifier))

/** infra/nginx/authlab.conf.template: the gateway of the native runner, compose and Kubernetes. */
export const GATEWAY_TEMPLATE = exported('@authlab/infra/gateway.conf.template')
/** The browser demo's files, for startNginx's `staticDirs` (the config names its copy). */
export const GATEWAY_STATIC_DIRS = { demo: dirname(exported('@authlab/infra/demo/index.html')) }

export interface GatewayLayout {
  listen: string
  auth: string[]
  /** service name → host:port of each replica */
  upstreams: Record<string, string[]>
  /** nginx limit_req on login/register per client address, e.g. `10r/s` (GATEWAY_LOGIN_RATE). */
  loginRate?: string
  /** Requests above the rate let through at once before 429s (GATEWAY_LOGIN_BURST). */
  loginBurst?: number
  /**
   * The front proxies whose X-Forwarded-For the gateway believes (GATEWAY_TRUSTED_PROXIES: addresses
   * or CIDR ranges, comma-separated); none by default.
   */
  trustedProxies?: string
  /**
   * host:port of a second loopback listener whose requests alone are written to `bytes.log` (under
   * nginx's prefix) in the template's `authlab_bytes` format: the bench's size phase reads the bytes
   * that crossed the gateway there, with no log line added to any other request.
   */
  bytesListen?: string
}

/** The bytes log's file, relative to nginx's prefix (startNginx's `dir`). */
export const BYTES_LOG = 'bytes.log'

const LOOPBACK_LISTEN = /^127\.0\.0\.1:(\d{1,5})$/

/** The "bytes log" region natively, and the map it needs at the http level; nothing without one. */
function bytesLog(listen: string | undefined): { map: string; server: string } {
  if (listen === undefined) return { map: '', server: '' }
  // Loopback only: a client that could reach it could fill the disk with log lines.
  const port = LOOPBACK_LISTEN.exec(listen)?.[1]
  if (!port) throw new Error(`bytesListen: not a 127.0.0.1:<port> address: ${listen}`)
  return {
    map: `map $server_port $authlab_bytes_log {\n  ${port} 1;\n  default 0;\n}\n`,
    server: `  listen ${listen};\n  access_log ${BYTES_LOG} authlab_bytes if=$authlab_bytes_log;\n`,
  }
}

/**
 * Every service the gateway routes under /<name>/ besides auth: the downstream services, then the
 * peers. The template's generated blocks are these, in this order.
 */
export const GATEWAY_SERVICES: readonly string[] = [...DOWNSTREAM_SERVICES, ...PEER_SERVICES]

const PROXY = /^[0-9A-Fa-f.:/]+$/

/**
 * nginx's realip directives for the trusted front proxies: the same lines infra/nginx/trusted-proxies.sh
 * writes in the containers. Empty when none is trusted.
 */
export function realIpDirectives(trustedProxies: string | undefined): string {
  const proxies = (trustedProxies ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
  if (proxies.length === 0) return ''
  for (const p of proxies) {
    if (!PROXY.test(p)) throw new Error(`GATEWAY_TRUSTED_PROXIES: not an address or a CIDR range: ${p}`)
  }
  return `${proxies.map((p) => `set_real_ip_from ${p};`).join('\n')}\nreal_ip_header X-Forwarded-For;\nreal_ip_recursive on;\n`
}

/** The gateway's defaults, the same in docker-compose.yml. */
export const GATEWAY_DEFAULTS = { loginRate: '10r/s', loginBurst: 20 } as const

const serverLines = (addresses: string[]) =>
  addresses.length === 0
    ? 'server 127.0.0.1:9 down;' // an empty upstream block is a config error
    : addresses.map((a) => `server ${a} max_fails=1 fail_timeout=2s;`).join('\n  ')

const SERVICE_NAME = /^[a-z][a-z0-9-]*$/

/** compose's and Kubernetes' variable for a service's `server` lines: orders → ORDERS_SERVERS. */
export const serversVariable = (service: string) => `${service.toUpperCase().replaceAll('-', '_')}_SERVERS`

/**
 * The headers every proxied request carries (the server's proxy_set_header lines, repeated: nginx
 * inherits none of them into a location that sets one of its own), then Authorization from the
 * phantom exchange, set even when empty so the client's own header never reaches the replica.
 */
const PHANTOM_PROXY_HEADERS = [
  'proxy_set_header Connection "";',
  'proxy_set_header Host $host;',
  'proxy_set_header X-Forwarded-For $remote_addr;',
  'proxy_set_header X-Forwarded-Proto $scheme;',
  'proxy_set_header X-Request-Id $request_id;',
  'proxy_set_header Authorization $authlab_phantom_authorization;',
]

/**
 * A downstream service's /<name>/phantom/ routes: nginx asks the phantom exchange (the template's
 * /_phantom_exchange) first and passes its internal token on in place of the client's
 * Authorization. The exchange's 401 reaches the client with auth's challenge and a JSON body
 * (@authlab_phantom_unauthorized), its 403 as nginx's; any other failure of it (a 503, auth
 * unreachable) is nginx's 500, answered 503 (@authlab_phantom_unavailable).
 * The retry of a request nginx itself failed sets the same headers.
 */
function phantomLocation(s: string): string {
  const headers = (indent: string) => PHANTOM_PROXY_HEADERS.map((h) => `${indent}${h}\n`).join('')
  return (
    `  location /${s}/phantom/ {\n` +
    '    auth_request /_phantom_exchange;\n' +
    '    auth_request_set $authlab_phantom_authorization $upstream_http_x_phantom_authorization;\n' +
    headers('    ') +
    `    proxy_pass http://${s};\n` +
    '    error_page 401 = @authlab_phantom_unauthorized;\n' +
    '    error_page 500 = @authlab_phantom_unavailable;\n' +
    `    error_page 502 504 = @${s}_phantom_again;\n` +
    '  }\n' +
    `  location @${s}_phantom_again {\n` +
    '    if ($request_method !~ ^(GET|HEAD|OPTIONS)$) { return 502; }\n' +
    headers('    ') +
    `    proxy_pass http://${s};\n` +
    '  }\n'
  )
}

/**
 * The gateway's blocks for the downstream services: an upstream each, and its /<name>/ location
 * with one retry of an idempotent request nginx itself failed (see the template); a service of
 * DOWNSTREAM_SERVICES (not a peer) also gets its /<name>/phantom/ location (`phantomLocation`).
 * `servers` gives the inside of each upstream: static addresses natively, a `${<SERVICE>_SERVERS}`
 * placeholder in the template's static copy for compose and Kubernetes.
 */
export function downstreamBlocks(
  services: readonly string[],
  servers: (service: string) => string,
): { upstreams: string; locations: string } {
  for (const s of services)
    if (!SERVICE_NAME.test(s)) throw new Error(`not a service name: ${JSON.stringify(s)}`)
  const upstreams = services.map(
    (s) => `upstream ${s} {\n  zone ${s} 64k;\n  ${servers(s)}\n  keepalive 64;\n}\n`,
  )
  const locations = services.map(
    (s) =>
      `  location /${s}/ { proxy_pass http://${s}; error_page 502 504 = @${s}_again; }\n` +
      `  location @${s}_again {\n` +
      `    if ($request_method !~ ^(GET|HEAD|OPTIONS)$) { return 502; }\n` +
      `    proxy_pass http://${s};\n` +
      `  }\n` +
      ((DOWNSTREAM_SERVICES as readonly string[]).includes(s) ? phantomLocation(s) : ''),
  )
  return { upstreams: upstreams.join(''), locations: locations.join('') }
}

/** The lines between `# BEGIN <name>` and `# END <name>` in the template (markers excluded). */
const REGION = (name: string) =>
  new RegExp(`(^[ \\t]*# BEGIN ${name}\\n)([\\s\\S]*?)(^[ \\t]*# END ${name}\\n)`, 'm')

export function templateRegion(template: string, name: string): string {
  const match = REGION(name).exec(template)
  if (!match) throw new Error(`the gateway template has no "# BEGIN ${name}" … "# END ${name}" region`)
  return match[2]!
}

function replaceRegion(template: string, name: string, body: string): string {
  templateRegion(template, name)
  return template.replace(
    REGION(name),
    (_whole, begin: string, _old: string, end: string) => begin + body + end,
  )
}

/**
 * Fills infra/nginx/authlab.conf.template for native processes (static upstream addresses). Every
 * service of GATEWAY_SERVICES (the downstream services and the peers) and of `upstreams` gets its
 * upstream and location, generated here; one with no address (not started, or no replica active)
 * answers 502.
 */
export async function renderGatewayConfig(layout: GatewayLayout): Promise<string> {
  const template = await readFile(GATEWAY_TEMPLATE, 'utf8')
  const services = [...new Set([...GATEWAY_SERVICES, ...Object.keys(layout.upstreams)])]
  const blocks = downstreamBlocks(services, (s) => serverLines(layout.upstreams[s] ?? []))
  const values: Record<string, string> = {
    GATEWAY_LISTEN: layout.listen,
    NGINX_RESOLVER: '',
    // Plain HTTP on loopback natively; docker compose terminates TLS here.
    GATEWAY_TLS: '',
    AUTH_SERVERS: serverLines(layout.auth),
    GATEWAY_LOGIN_RATE: layout.loginRate ?? GATEWAY_DEFAULTS.loginRate,
    GATEWAY_LOGIN_BURST: String(layout.loginBurst ?? GATEWAY_DEFAULTS.loginBurst),
    // startNginx fills ${STATIC_DIR} with where it copied GATEWAY_STATIC_DIRS.
    DEMO_ROOT: '$' + '{STATIC_DIR}/demo',
    // Relative: under startNginx's prefix (-p), removed with it.
    PHANTOM_CACHE_DIR: 'phantom-cache',
  }
  // ${ACCESS_LOG} and ${STATIC_DIR} are left for startNginx, which owns its prefix.
  const filled = template.replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) => values[name] ?? whole)
  const bytes = bytesLog(layout.bytesListen)
  const rendered = replaceRegion(
    replaceRegion(
      replaceRegion(filled, 'downstream upstreams', blocks.upstreams),
      'downstream locations',
      blocks.locations,
    ),
    'bytes log',
    bytes.server,
  )
  // In the containers these lines are a file of their own in conf.d, at the same (http) level.
  return `${realIpDirectives(layout.trustedProxies)}${bytes.map}${rendered}`
}
