import { readFile } from 'node:fs/promises'

const TEMPLATE = new URL('../../../infra/nginx/authlab.conf.template', import.meta.url)
/** The browser demo's files, for startNginx's `staticDirs` (the config names its copy). */
export const GATEWAY_STATIC_DIRS = { demo: new URL('../../../infra/demo', import.meta.url).pathname }

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
}

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

/** Fills infra/nginx/authlab.conf.template for native processes (static upstream addresses). */
export async function renderGatewayConfig(layout: GatewayLayout): Promise<string> {
  const template = await readFile(TEMPLATE, 'utf8')
  const values: Record<string, string> = {
    GATEWAY_LISTEN: layout.listen,
    NGINX_RESOLVER: '',
    // Plain HTTP on loopback natively; docker compose terminates TLS here.
    GATEWAY_TLS: '',
    AUTH_SERVERS: serverLines(layout.auth),
    ORDERS_SERVERS: serverLines(layout.upstreams.orders ?? []),
    PROFILE_SERVERS: serverLines(layout.upstreams.profile ?? []),
    GATEWAY_LOGIN_RATE: layout.loginRate ?? GATEWAY_DEFAULTS.loginRate,
    GATEWAY_LOGIN_BURST: String(layout.loginBurst ?? GATEWAY_DEFAULTS.loginBurst),
    // startNginx fills ${STATIC_DIR} with where it copied GATEWAY_STATIC_DIRS.
    DEMO_ROOT: '$' + '{STATIC_DIR}/demo',
  }
  // ${ACCESS_LOG} and ${STATIC_DIR} are left for startNginx, which owns its prefix.
  const rendered = template.replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) => values[name] ?? whole)
  // In the containers these lines are a file of their own in conf.d, at the same (http) level.
  return `${realIpDirectives(layout.trustedProxies)}${rendered}`
}
