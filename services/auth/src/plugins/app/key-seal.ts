import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { AuthConfig } from '../../config.ts'
import { KeyEncryptionKeyError } from '../../errors.ts'

/**
 * Signing keys at rest: envelope encryption. Each private key is encrypted (AES-256-GCM) under its
 * own random data key, and the data key under the key-encryption key (KEK) from the environment or
 * a file (a compose/Kubernetes secret), never stored beside the data. Both layers authenticate the
 * key's `kid`, so a sealed key cannot be moved to another row. A database dump alone holds no
 * usable private key.
 */

const DEV_KEK = createHash('sha256').update('authlab dev-only key-encryption key').digest()

export interface Kek {
  key: Buffer
  /** A development KEK: the built-in one (refused when NODE_ENV=production) or compose's default. */
  development: boolean
}

/** The KEK from KEY_ENCRYPTION_KEY(_FILE): 32 bytes, base64. Without one, production refuses. */
export function loadKek(
  config: Pick<AuthConfig, 'KEY_ENCRYPTION_KEY' | 'KEY_ENCRYPTION_KEY_FILE'>,
  env = process.env,
): Kek {
  const encoded = config.KEY_ENCRYPTION_KEY_FILE
    ? readFileSync(config.KEY_ENCRYPTION_KEY_FILE, 'utf8').trim()
    : config.KEY_ENCRYPTION_KEY
  if (encoded === undefined) {
    if (env.NODE_ENV === 'production') {
      throw new KeyEncryptionKeyError(
        'NODE_ENV=production needs KEY_ENCRYPTION_KEY or KEY_ENCRYPTION_KEY_FILE',
      )
    }
    return { key: DEV_KEK, development: true }
  }
  const key = Buffer.from(encoded, 'base64')
  if (key.length !== 32)
    throw new KeyEncryptionKeyError('the key-encryption key must be 32 bytes, base64-encoded')
  // docker-compose.yml's development default decodes to "dev-only-…", as every secret authlab ships.
  return { key, development: key.subarray(0, 9).toString() === 'dev-only-' }
}

function encrypt(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(aad))
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')
}

function decrypt(key: Buffer, sealed: string, aad: string): Buffer {
  const raw = Buffer.from(sealed, 'base64url')
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12)).setAAD(Buffer.from(aad))
  decipher.setAuthTag(raw.subarray(raw.length - 16))
  return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()])
}

/** `v1.<data key under the KEK>.<private key under the data key>` */
export function sealPrivateKey(kek: Kek, kid: string, privatePem: string): string {
  const dataKey = randomBytes(32)
  return `v1.${encrypt(kek.key, dataKey, kid)}.${encrypt(dataKey, Buffer.from(privatePem), kid)}`
}

export function unsealPrivateKey(kek: Kek, kid: string, sealed: string): string {
  const [version, wrappedKey, body] = sealed.split('.')
  if (version !== 'v1' || !wrappedKey || !body)
    throw new KeyEncryptionKeyError(`key ${kid} is not sealed as v1`)
  try {
    return decrypt(decrypt(kek.key, wrappedKey, kid), body, kid).toString()
  } catch {
    throw new KeyEncryptionKeyError(`key ${kid} does not open with this key-encryption key`)
  }
}
