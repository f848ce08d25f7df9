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
