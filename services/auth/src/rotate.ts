import { parseArgs } from 'node:util'
import type pg from 'pg'
import type { AuthConfig } from './config.ts'
import { loadKek } from './plugins/app/key-seal.ts'
import { generatePrivateKeyPem, insertKey } from './plugins/app/keys.ts'

/**
 * Adds a new signing key that every replica publishes in the JWKS at once and signs with only
 * after `publishDelayS` (default JWT_KEY_PUBLISH_DELAY_S, at least the JWKS cache lifetime), so no
 * verifier meets a `kid` it has not had the chance to fetch. The previous key stays in the set
 * until the tokens it signed have expired.
 */
export async function rotateSigningKey(
  pool: pg.Pool,
  config: AuthConfig,
  publishDelayS = config.JWT_KEY_PUBLISH_DELAY_S,
): Promise<{ kid: string; activatesAt: Date }> {
  const activatesAt = new Date(Date.now() + publishDelayS * 1000)
  const kid = await insertKey(
    pool,
    loadKek(config),
    generatePrivateKeyPem(config.JWT_ALGORITHM),
    config.JWT_ALGORITHM,
    activatesAt,
  )
  return { kid, activatesAt }
}

/** The longest publish delay the rotate-key command takes: 30 days, in seconds. */
export const MAX_PUBLISH_DELAY_S = 30 * 24 * 3600

export const ROTATE_KEY_USAGE = `Usage: pnpm --filter @authlab/auth rotate-key [publishDelaySeconds]
       node services/auth/src/cli/rotate-key.ts [publishDelaySeconds]

Adds a new signing key: every auth replica publishes it in the JWKS at once and signs with it after
publishDelaySeconds, a whole number from 0 to ${MAX_PUBLISH_DELAY_S} (default: JWT_KEY_PUBLISH_DELAY_S, at least the
JWKS cache lifetime, so that no verifier meets a kid it has not had the chance to fetch). Reads
auth's configuration from the environment (DATABASE_URL, JWT_ALGORITHM, KEY_ENCRYPTION_KEY, ...).

Options:
  -h, --help  print this and exit

Exit status: 0 done, 1 failed (configuration, database), 2 bad arguments.`

/** Bad arguments to the rotate-key command: its message says what is wrong. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/**
 * The rotate-key command's arguments: `--help`, or an optional publish delay in seconds (a whole
 * number from 0 to MAX_PUBLISH_DELAY_S, digits only: no sign, fraction, exponent or hex). Throws
 * UsageError for anything else, one more argument or an unknown option included.
 */
export function parseRotateKeyArgs(
  argv: readonly string[],
): { help: true } | { help: false; publishDelayS?: number } {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (parsed.values.help) return { help: true }
  const [delay, ...extra] = parsed.positionals
  if (extra.length > 0)
    throw new UsageError(`one argument at most, the publish delay; got ${parsed.positionals.length}`)
  if (delay === undefined) return { help: false }
  const seconds = /^\d{1,10}$/.test(delay) ? Number(delay) : Number.NaN
  if (!(seconds <= MAX_PUBLISH_DELAY_S)) {
    throw new UsageError(
      `the publish delay must be a whole number of seconds from 0 to ${MAX_PUBLISH_DELAY_S}; got ${JSON.stringify(delay)}`,
    )
  }
  return { help: false, publishDelayS: seconds }
}

const parse = (argv: readonly string[]) =>
  parseArgs({
    args: [...argv],
    options: { help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  })
