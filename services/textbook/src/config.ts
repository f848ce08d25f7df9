import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'

// The textbook service's settings, read once at start from plain process.env, as the tutorials do.
// Where a name is shared with the other services (PORT, HOST, REDIS_URL, DATABASE_URL, REPLICA_ID,
// ACCESS_TOKEN_TTL_S, SESSION_IDLE_TTL_S, COOKIE_SECURE, TRUST_PROXY, EXPOSE_REPLICA), it means the
// same thing; the TEXTBOOK_* ones are this service's own.

const env = process.env

function required(name: string): string {
  const value = env[name]
  if (!value) throw new Error(`textbook: ${name} must be set`)
  return value
}

function integer(name: string, fallback: number): number {
  const value = Number(env[name] || fallback)
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`textbook: ${name} must be an integer`)
  return value
}

/** A PEM from the variable itself (`\n` escapes allowed, as in a .env file) or from the file it names. */
function pem(name: string): string {
  const file = env[`${name}_FILE`]
  const text = file ? readFileSync(file, 'utf8') : required(name)
  return text.replace(/\\n/g, '\n')
}

export const config = {
  PORT: integer('PORT', 3001),
  HOST: env.HOST || '127.0.0.1',
  REPLICA_ID: env.REPLICA_ID || hostname(),
  EXPOSE_REPLICA: env.EXPOSE_REPLICA !== 'false',
  REDIS_URL: env.REDIS_URL || 'redis://127.0.0.1:6379',
  DATABASE_URL: env.DATABASE_URL || 'postgres://authlab:authlab@127.0.0.1:5432/authlab',
  ACCESS_TOKEN_TTL_S: integer('ACCESS_TOKEN_TTL_S', 300),
  SESSION_IDLE_TTL_S: integer('SESSION_IDLE_TTL_S', 1800),
  COOKIE_SECURE: env.COOKIE_SECURE === 'true',
  TRUST_PROXY: env.TRUST_PROXY || '127.0.0.1,::1',
  TEXTBOOK_SESSION_SECRET: required('TEXTBOOK_SESSION_SECRET'),
  // An ES256 (P-256) private key, PKCS#8 PEM, the same on every replica; its public half verifies.
  TEXTBOOK_JWT_PRIVATE_KEY: pem('TEXTBOOK_JWT_PRIVATE_KEY'),
}
