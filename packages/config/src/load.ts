import envSchema from 'env-schema'
import type { Static, TObject } from 'typebox'
import { ConfigInvalidError } from './errors.ts'

/**
 * Reads and validates configuration once, at start. An empty variable counts as unset (compose's
 * `${VAR:-}` passes one through), so its default applies. Values are coerced from strings
 * (env vars are always strings), defaults applied, and unknown variables dropped, so the
 * returned object is exactly the schema's shape. Throws AUTHLAB_CONFIG_INVALID naming every
 * bad variable rather than letting the service start half-configured.
 */
export function loadConfig<S extends TObject>(schema: S, env: NodeJS.ProcessEnv = process.env): Static<S> {
  try {
    const data = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''))
    return envSchema<Static<S>>({ schema, data, env: false, dotenv: false })
  } catch (err) {
    throw new ConfigInvalidError((err as Error).message)
  }
}
