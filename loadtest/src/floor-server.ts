// One replica of `orders` as the cluster runs it (the real app: every plugin, hook and mode route),
// plus routes shaped like a mode route (same onRequest metrics, same response schema) for
// loadtest/src/floor.ts: /orders/floor/none/me awaits nothing, /orders/floor/ioredis/me awaits one
// GET through the replica's own ioredis client, /orders/floor/raw/me one GET written by hand on a
// bare socket, and two more GETs through clients that differ from the replica's in one setting. Together they say what a Redis round trip costs this replica before any of the
// verification code runs: the floor under `session` and `jwt-denylist`.
import { connect, type Socket } from 'node:net'
import { createRedis, redisTopology } from '@authlab/clients'
import { buildDownstreamApp, loadDownstreamConfig } from '@authlab/downstream'
import type { RedisOptions } from 'ioredis'

const FLOOR_KEY = process.env.FLOOR_KEY
if (!FLOOR_KEY) throw new Error('FLOOR_KEY (the Redis key every floor GET reads) is required')

/**
 * The least a Node process can do for one GET: RESP written by hand, the commands of one event-loop
 * turn written together at setImmediate (as ioredis' auto-pipelining does), and a parser that knows
 * only the replies GET and AUTH give. No timeout, no reconnect, no command objects.
 */
class RawRedis {
  readonly #socket: Socket
  readonly #waiting: { resolve: (v: string | null) => void; reject: (e: Error) => void }[] = []
  #pending: string[] = []
  #buffer = ''

  private constructor(socket: Socket) {
    this.#socket = socket
    socket.setNoDelay(true)
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => this.#read(chunk))
    socket.on('error', (err) => {
      for (const w of this.#waiting.splice(0)) w.reject(err)
    })
  }

  static async connect(url: string): Promise<RawRedis> {
    const u = new URL(url)
    const socket = connect({ host: u.hostname, port: Number(u.port || 6379) })
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    const client = new RawRedis(socket)
    if (u.password) {
      const user = decodeURIComponent(u.username || 'default')
      await client.command(['AUTH', user, decodeURIComponent(u.password)])
    }
    return client
  }

  command(args: string[]): Promise<string | null> {
    let frame = `*${args.length}\r\n`
    for (const a of args) frame += `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`
    if (this.#pending.length === 0) setImmediate(() => this.#flush())
    this.#pending.push(frame)
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }))
  }

  #flush(): void {
    this.#socket.write(this.#pending.join(''), 'latin1')
    this.#pending = []
  }

  #read(chunk: string): void {
    this.#buffer += chunk
    for (;;) {
      const eol = this.#buffer.indexOf('\r\n')
      if (eol < 0) return
      const kind = this.#buffer[0]
      let value: string | null
      let consumed: number
      if (kind === '$') {
        const length = Number(this.#buffer.slice(1, eol))
        if (length < 0) {
          value = null
          consumed = eol + 2
        } else {
          if (this.#buffer.length < eol + 2 + length + 2) return
          value = this.#buffer.slice(eol + 2, eol + 2 + length)
          consumed = eol + 2 + length + 2
        }
      } else if (kind === '+') {
        value = this.#buffer.slice(1, eol)
        consumed = eol + 2
      } else {
        const err = new Error(`Redis answered ${this.#buffer.slice(0, eol)}`)
        this.#buffer = this.#buffer.slice(eol + 2)
        this.#waiting.shift()?.reject(err)
        continue
      }
      this.#buffer = this.#buffer.slice(consumed)
      this.#waiting.shift()?.resolve(value)
    }
  }

  close(): void {
    this.#socket.destroy()
  }
}

const config = loadDownstreamConfig()
const app = await buildDownstreamApp('orders', config)
const raw = await RawRedis.connect(config.REDIS_URL)
app.addHook('onClose', async () => raw.close())

// The mode routes' own metrics, found by name: a floor request pays what a mode request pays for them.
type Labels = { mode?: string; outcome?: string }
// Declared by @authlab/service-kit's metrics plugin, which this file reaches only through the app.
const registry = (app as unknown as { metricsRegistry: { getSingleMetric(name: string): unknown } })
  .metricsRegistry
const decisions = registry.getSingleMetric('authlab_auth_decisions_total') as unknown as {
  inc(labels: Labels): void
}
const verifySeconds = registry.getSingleMetric('authlab_verify_duration_seconds') as unknown as {
  startTimer(labels: Labels): (labels: Labels) => number
}

// Two more clients with the replica's settings but one: ioredis' own per-command timeout (what the
// replicas used before the hang watchdog replaced it), and no auto-pipelining.
const variant = (extra: RedisOptions, autoPipelining = true) =>
  createRedis(
    { ...redisTopology(config), commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS, autoPipelining },
    extra,
  )
const timed = variant({ commandTimeout: config.REDIS_COMMAND_TIMEOUT_MS })
const unpipelined = variant({}, false)
app.addHook('onClose', async () => {
  timed.disconnect()
  unpipelined.disconnect()
})

const roundTrips: Record<string, () => Promise<unknown> | undefined> = {
  none: () => undefined,
  raw: () => raw.command(['GET', FLOOR_KEY]),
  ioredis: () => app.redis.get(FLOOR_KEY),
  'ioredis-timed': () => timed.get(FLOOR_KEY),
  'ioredis-unpipelined': () => unpipelined.get(FLOOR_KEY),
}
for (const [variant, roundTrip] of Object.entries(roundTrips)) {
  const mode = `floor-${variant}`
  app.get(
    `/orders/floor/${variant}/me`,
    {
      schema: {
        hide: true,
        response: {
          200: {
            type: 'object',
            required: ['sub', 'mode', 'service'],
            properties: { sub: { type: 'string' }, mode: { type: 'string' }, service: { type: 'string' } },
          },
        },
      },
      onRequest: async () => {
        const end = verifySeconds.startTimer({ mode })
        try {
          const answer = await roundTrip()
          // FLOOR_KEY is a live session's key: a GET that found nothing did not do the same work.
          if (variant !== 'none' && typeof answer !== 'string') throw new Error('FLOOR_KEY holds no value')
        } finally {
          end({ outcome: 'ok' })
          decisions.inc({ mode, outcome: 'ok' })
        }
      },
    },
    async () => ({ sub: '', mode, service: 'orders' }),
  )
}
await app.listen({ host: config.HOST, port: config.PORT })
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)))
