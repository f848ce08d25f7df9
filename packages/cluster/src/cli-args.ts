import { parseArgs } from 'node:util'
import type { RedisMode } from '@authlab/contract'

export const USAGE = `Usage: pnpm cluster [options]

Starts Redis, Postgres, auth, the downstream services, the textbook peer (standalone Redis only)
and an nginx gateway as local processes, prints the gateway's URL once everything answers, and
stops it all on Ctrl-C (SIGINT) or SIGTERM.

Options:
  --replicas <n>     replicas of each downstream service and peer, n >= 1 (default: $REPLICAS or 3)
  --port <port>      the gateway's port, 1-65535 (default: $GATEWAY_PORT or 8080)
  --redis <mode>     standalone, sentinel (a primary, 2 replicas, 3 sentinels) or cluster
                     (3 primaries with a replica each) (default: $REDIS_MODE or standalone)
  --prometheus       also start Debian's prometheus scraping auth and every replica
  -h, --help         print this help and exit
`

/** A command line the runner refuses: the message is one line, for stderr, with exit code 2. */
export class UsageError extends Error {}

export interface CliOptions {
  replicas: number
  port: number
  redisMode: RedisMode
  prometheus: boolean
}

const positiveInteger = (text: string) => (/^\d+$/.test(text) ? Number(text) : Number.NaN)

/**
 * `pnpm cluster`'s command line (defaults from REPLICAS, GATEWAY_PORT and REDIS_MODE): `help` when
 * it asks for the usage text; throws a UsageError naming the first thing wrong.
 */
export function parseCliArgs(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): { help: true } | ({ help: false } & CliOptions) {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        replicas: { type: 'string', default: env.REPLICAS ?? '3' },
        port: { type: 'string', default: env.GATEWAY_PORT ?? '8080' },
        redis: { type: 'string', default: env.REDIS_MODE ?? 'standalone' },
        prometheus: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }))
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0])
  }
  if (values.help) return { help: true }
  const redisMode = String(values.redis)
  if (redisMode !== 'standalone' && redisMode !== 'sentinel' && redisMode !== 'cluster')
    throw new UsageError(`--redis must be standalone, sentinel or cluster, not ${JSON.stringify(redisMode)}`)
  const replicas = positiveInteger(String(values.replicas))
  if (!Number.isSafeInteger(replicas) || replicas < 1)
    throw new UsageError(
      `--replicas must be an integer of at least 1, not ${JSON.stringify(values.replicas)}`,
    )
  const port = positiveInteger(String(values.port))
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new UsageError(`--port must be an integer from 1 to 65535, not ${JSON.stringify(values.port)}`)
  return { help: false, replicas, port, redisMode, prometheus: values.prometheus === true }
}
