import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ConfigInvalidError } from '@authlab/service-kit'
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
  /** A development KEK: the built-in one or compose's default, both refused when NODE_ENV=production. */
  development: boolean
}

/**
 * The KEK that seals (`current`), and during a KEK rotation the one it replaces (`previous`): keys
 * still sealed under that one open with it and are re-sealed under the current one at start.
 */
export interface Keks {
  current: Kek
  previous?: Kek
}

type KekConfig = Partial<
  Pick<
    AuthConfig,
    | 'NODE_ENV'
    | 'KEY_ENCRYPTION_KEY'
    | 'KEY_ENCRYPTION_KEY_FILE'
    | 'KEY_ENCRYPTION_KEY_PREVIOUS'
    | 'KEY_ENCRYPTION_KEY_PREVIOUS_FILE'
  >
>

function decodeKek(encoded: string, name: string): Kek {
  const key = Buffer.from(encoded, 'base64')
  if (key.length !== 32)
    throw new KeyEncryptionKeyError(`${name}: the key-encryption key must be 32 bytes, base64-encoded`)
  // docker-compose.yml's development default decodes to "dev-only-…", as every secret authlab ships.
  return { key, development: key.subarray(0, 9).toString() === 'dev-only-' }
}

/**
 * The KEK from KEY_ENCRYPTION_KEY(_FILE): 32 bytes, base64. Without one, the built-in development
 * KEK. NODE_ENV=production refuses a development KEK (that one, or compose's `dev-only-` default).
 */
export function loadKek(config: KekConfig): Kek {
  const encoded = config.KEY_ENCRYPTION_KEY_FILE
    ? readFileSync(config.KEY_ENCRYPTION_KEY_FILE, 'utf8').trim()
    : config.KEY_ENCRYPTION_KEY
  const kek =
    encoded === undefined
      ? { key: DEV_KEK, development: true }
      : decodeKek(encoded, config.KEY_ENCRYPTION_KEY_FILE ? 'KEY_ENCRYPTION_KEY_FILE' : 'KEY_ENCRYPTION_KEY')
  if (kek.development && config.NODE_ENV === 'production') {
    const which =
      encoded === undefined
        ? 'KEY_ENCRYPTION_KEY and KEY_ENCRYPTION_KEY_FILE are unset, and the built-in development key-encryption key is refused'
        : `${config.KEY_ENCRYPTION_KEY_FILE ? 'KEY_ENCRYPTION_KEY_FILE' : 'KEY_ENCRYPTION_KEY'} holds a development key-encryption key (it decodes to "dev-only-…"), which is refused; keys sealed under it are re-sealed at start when it is given as KEY_ENCRYPTION_KEY_PREVIOUS`
    throw new ConfigInvalidError(
      `NODE_ENV=production: ${which}. Set KEY_ENCRYPTION_KEY or KEY_ENCRYPTION_KEY_FILE to a key of your own: 32 random bytes, base64 (openssl rand -base64 32)`,
    )
  }
  return kek
}

/**
 * The current KEK and, when KEY_ENCRYPTION_KEY_PREVIOUS(_FILE) is set, the previous one. The
 * previous may be a development KEK even in production: leaving it is what a rotation is for.
 */
export function loadKeks(config: KekConfig): Keks {
  const current = loadKek(config)
  const encoded = config.KEY_ENCRYPTION_KEY_PREVIOUS_FILE
    ? readFileSync(config.KEY_ENCRYPTION_KEY_PREVIOUS_FILE, 'utf8').trim()
    : config.KEY_ENCRYPTION_KEY_PREVIOUS
  if (encoded === undefined) return { current }
  const previous = decodeKek(
    encoded,
    config.KEY_ENCRYPTION_KEY_PREVIOUS_FILE
      ? 'KEY_ENCRYPTION_KEY_PREVIOUS_FILE'
      : 'KEY_ENCRYPTION_KEY_PREVIOUS',
  )
  return previous.key.equals(current.key) ? { current } : { current, previous }
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
  return unsealWithAny({ current: kek }, kid, sealed).privatePem
}

/**
 * Opens a sealed key with the current KEK or else the previous one, saying which did. A key that
 * opens with neither is an error naming the variables, never a key skipped.
 */
export function unsealWithAny(keks: Keks, kid: string, sealed: string): { privatePem: string; kek: Kek } {
  const [version, wrappedKey, body] = sealed.split('.')
  if (version !== 'v1' || !wrappedKey || !body)
    throw new KeyEncryptionKeyError(`key ${kid} is not sealed as v1`)
  for (const kek of keks.previous ? [keks.current, keks.previous] : [keks.current]) {
    let dataKey: Buffer
    try {
      dataKey = decrypt(kek.key, wrappedKey, kid)
    } catch {
      continue // sealed under another KEK (GCM refuses it): try the next one
    }
    try {
      return { privatePem: decrypt(dataKey, body, kid).toString(), kek }
    } catch {
      throw new KeyEncryptionKeyError(`key ${kid} is damaged: its data key opens but not the key itself`)
    }
  }
  throw new KeyEncryptionKeyError(
    keks.previous
      ? `key ${kid} opens under neither KEY_ENCRYPTION_KEY nor KEY_ENCRYPTION_KEY_PREVIOUS`
      : `key ${kid} does not open with this key-encryption key (KEY_ENCRYPTION_KEY): if it was sealed under another one, give that one as KEY_ENCRYPTION_KEY_PREVIOUS to re-seal it`,
  )
}
