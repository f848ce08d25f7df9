import { parseArgs } from 'node:util'
import { metrics } from '@authlab/service-kit'
import Fastify, { type FastifyInstance } from 'fastify'
import type { AuthConfig } from './config.ts'
import migrations from './plugins/app/migrations.ts'
import permissions, { normalizeRoles } from './plugins/app/permissions.ts'
import revocations from './plugins/app/revocations.ts'
import users from './plugins/app/users.ts'
import stores from './plugins/external/stores.ts'

export const ADMIN_USAGE = `Usage: pnpm --filter @authlab/auth admin <command> <email> [role ...]
       node services/auth/src/cli/admin.ts <command> <email> [role ...]

Commands:
  roles <email> [role ...]  replace the user's roles with these (none: no roles at all)
  disable <email>           disable the user: every login revoked, no login or refresh after
  enable <email>            let a disabled user log in again (nothing revoked comes back)

A change goes out through the revocation store as the admin routes send it (PUT
/auth/admin/users/{id}/roles, POST …/disable, …/enable): how soon each verification mode sees it is
its bound in docs/modes.md. Reads auth's configuration from the environment (DATABASE_URL,
REDIS_URL, ...).

Options:
  -h, --help  print this and exit

Exit status: 0 done, 1 failed (configuration, stores, no such user), 2 bad arguments.`

export type AdminCommand =
  | { command: 'help' }
  | { command: 'roles'; email: string; roles: string[] }
  | { command: 'disable' | 'enable'; email: string }

/** Bad arguments to the admin command: its message says what is wrong. */
export class AdminUsageError extends Error {
  override name = 'AdminUsageError'
}

export function parseAdminArgs(argv: readonly string[]): AdminCommand {
  let parsed: { values: { help?: boolean }; positionals: string[] }
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    })
  } catch (err) {
    throw new AdminUsageError((err as Error).message)
  }
  if (parsed.values.help) return { command: 'help' }
  const [command, email, ...rest] = parsed.positionals
  if (command === undefined) throw new AdminUsageError('a command is required')
  if (!email) throw new AdminUsageError(`${command}: the user's email is required`)
  if (command === 'roles') {
    try {
      return { command, email, roles: normalizeRoles(rest) }
    } catch (err) {
      throw new AdminUsageError((err as Error).message)
    }
  }
  if (command !== 'disable' && command !== 'enable')
    throw new AdminUsageError(`unknown command ${JSON.stringify(command)}`)
  if (rest.length > 0) throw new AdminUsageError(`${command} takes one email`)
  return { command, email }
}

/** The part of auth an admin change needs: its stores and the same plugins the admin routes use. */
export async function buildAdminApp(config: AuthConfig): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: 'warn' } })
  try {
    await app.register(metrics, { service: 'auth-admin', replica: 'cli', path: '/auth/metrics' })
    await app.register(stores, { config })
    await app.register(migrations)
    await app.register(users, { config })
    await app.register(revocations, { config })
    await app.register(permissions, { config })
    await app.ready()
  } catch (err) {
    await app.close().catch(() => {})
    throw err
  }
  return app
}

/** Runs one admin command; resolves with the line to print. */
export async function runAdmin(
  app: FastifyInstance,
  cmd: Exclude<AdminCommand, { command: 'help' }>,
): Promise<string> {
  const userId = await app.users.idByEmail(cmd.email)
  if (!userId) throw new Error(`no user with the email ${JSON.stringify(cmd.email)}`)
  if (cmd.command === 'roles') {
    const { roles, sessions } = await app.permissions.changeRoles(undefined, userId, cmd.roles)
    return `${cmd.email}: roles [${roles.join(', ')}], ${sessions} live session(s) rewritten`
  }
  if (cmd.command === 'disable') {
    const revoked = await app.permissions.disable(undefined, userId)
    return `${cmd.email}: disabled, ${revoked} login(s) revoked`
  }
  await app.permissions.enable(undefined, userId)
  return `${cmd.email}: enabled`
}
