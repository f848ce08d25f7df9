// This module and hang-watchdog.ts are the only code that reaches into ioredis beyond its documented
// API (`sendCommand` and `delayUntilReady` here, which every command passes through). pnpm-workspace.yaml
// pins ioredis to one version for them; test/unavailable.test.ts is the gate for upgrading it.
import { type Cluster, type Command, type Redis, ReplyError } from 'ioredis'
import { isProgrammingError, markUnavailable } from './unavailable.ts'

type Send = (command: Command, ...rest: unknown[]) => unknown
type Callback = (err?: Error | null) => void

/**
 * Marks every error a command of `client` fails with, other than Redis' own reply, as Redis being
 * unavailable. With no offline queue, ioredis fails a command by itself only when it has no
 * connection to send it on, the connection closed under it, or the command timed out; its
 * messages for those ("Stream isn't writeable…", "Connection is closed.", "Command timed out") are
 * plain Errors, so the origin is what tells them apart. (It also refuses commands a subscriber or
 * MONITOR connection may not send: these clients are neither; the revocation feed subscribes on
 * connections of its own.)
 */
export function markUnanswered<C extends Redis | Cluster>(client: C): C {
  const send = client.sendCommand.bind(client) as Send
  const mark = (err: Error) =>
    err instanceof ReplyError || isProgrammingError(err) ? err : markUnavailable(err, 'Redis')
  const sendCommand: Send = (command, ...rest) => {
    const reject = command.reject
    command.reject = (err) => reject(mark(err))
    return send(command, ...rest)
  }
  Object.assign(client, { sendCommand })
  // A cluster without a slot map yet holds pipelines (auto-pipelined commands among them) until it
  // connects; a failure to connect reaches them here, not through sendCommand.
  if ('delayUntilReady' in client) {
    const delay = client.delayUntilReady.bind(client) as (callback: Callback) => void
    Object.assign(client, {
      delayUntilReady: (callback: Callback) => delay((err) => callback(err && mark(err))),
    })
  }
  return client
}
