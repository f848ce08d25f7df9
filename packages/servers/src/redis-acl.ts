import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'

/**
 * Redis ACL users, from infra/redis/users.acl: the same file docker-compose.yml loads. Auth and the
 * downstream replicas connect as different users, so a replica cannot write a session (NOPERM). The
 * textbook peer (services/textbook) has a user of its own, confined to its `textbook:*` keys.
 */
export type RedisRole = 'auth' | 'downstream' | 'textbook' | 'admin'

export const REDIS_USERS: Readonly<Record<RedisRole, string>> = {
  auth: 'authlab-auth',
  downstream: 'authlab-downstream',
  textbook: 'authlab-textbook',
  admin: 'default',
}

const PLACEHOLDERS: Readonly<Record<RedisRole, string>> = {
  auth: 'REDIS_AUTH_PASSWORD',
  downstream: 'REDIS_DOWNSTREAM_PASSWORD',
  textbook: 'REDIS_TEXTBOOK_PASSWORD',
  admin: 'REDIS_ADMIN_PASSWORD',
}

const TEMPLATE = new URL('../../../infra/redis/users.acl', import.meta.url)

export type RedisPasswords = Readonly<Record<RedisRole, string>>

/** Fresh random passwords for one server (hex: nothing to escape in a URL or an ACL line). */
export function newRedisPasswords(): RedisPasswords {
  const one = () => randomBytes(24).toString('hex')
  return { auth: one(), downstream: one(), textbook: one(), admin: one() }
}

/** The ACL file as Redis reads it: comments and blank lines removed (an ACL file allows neither). */
export function renderAcl(passwords: RedisPasswords): string {
  let text = readFileSync(TEMPLATE, 'utf8')
  for (const role of Object.keys(PLACEHOLDERS) as RedisRole[]) {
    text = text.replaceAll(`\${${PLACEHOLDERS[role]}}`, passwords[role])
  }
  return `${text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .join('\n')}\n`
}

export function redisUrlFor(role: RedisRole, passwords: RedisPasswords, host: string, port: number): string {
  return `redis://${REDIS_USERS[role]}:${passwords[role]}@${host}:${port}`
}
