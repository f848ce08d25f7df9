// This module and redis-origin.ts are the only code that reaches into ioredis beyond its documented
// API (here `commandQueue` and `stream`, and that a socket's close fails the commands queued on
// it). pnpm-workspace.yaml pins ioredis to one version for them; test/hang-watchdog.test.ts is the
// gate for upgrading it.
import { Command, type Redis } from 'ioredis'
import { RedisUnansweredError } from './errors.ts'

/** The hang timeout each watched connection was created with, for its duplicates. */
const hangTimeouts = new WeakMap<Redis, number>()

/** The timeout `watchForHangs` watches `client` with, if it does. */
export function hangTimeoutOf(client: Redis): number | undefined {
  return hangTimeouts.get(client)
}

interface Noted {
  command: Command
  at: number
  answered: boolean
}

/**
 * Fails closed on a Redis that stops answering, without a timer per command. ioredis'
 * `commandTimeout` arms and clears a timer for every command (and deletes it from the Command
 * afterwards); `node loadtest/src/floor.ts` measured that at 4–5 µs of a replica's CPU per
 * request, 0.04–0.07× of a `none` request. Here one interval per connection, every tenth of the
 * timeout, notes the newest command waiting on it. Redis answers a connection's commands in order,
 * so a noted command that is still unanswered `timeoutMs` later means every command queued before
 * the note has waited at least that long: every command waiting on the connection then fails with
 * AUTHLAB_REDIS_UNANSWERED (503, as a timeout) and the socket is destroyed (not ended: a hung
 * server never sends the FIN a graceful close waits for, and ioredis would wait
 * `disconnectTimeout`, 2 s, before destroying it); ioredis reconnects by its retry strategy. So no
 * command waits much more than `timeoutMs` (at most 1.2 × `timeoutMs`: up to one interval before
 * it is noted, one after it is due), however busy the queue, as with `commandTimeout`. While the
 * server stays hung the reconnect cannot become ready and commands fail at once (no offline queue).
 */
export function watchForHangs(client: Redis, timeoutMs: number): Redis {
  hangTimeouts.set(client, timeoutMs)
  // Oldest first; an entry is answered once its command's promise settles (a reply or an error
  // reply; ioredis' `isResolved` stays false for the latter).
  const noted: Noted[] = []
  let confirming = false
  const timer = setInterval(
    () => {
      const now = performance.now()
      noteNewest(client, noted, now)
      while (noted[0]?.answered) noted.shift()
      const due = noted[0]
      if (!due || now - due.at < timeoutMs || confirming) return
      // Timers run before sockets are read: after an event-loop stall of `timeoutMs` the answer
      // may be in the socket, unread. Look again once pending input has been parsed.
      confirming = true
      setImmediate(() => {
        confirming = false
        if (due.answered) return
        noted.length = 0
        drop(client, timeoutMs)
      })
    },
    Math.max(5, Math.floor(timeoutMs / 10)),
  )
  timer.unref()
  client.once('end', () => clearInterval(timer))
  return client
}

function noteNewest(client: Redis, noted: Noted[], now: number): void {
  const newest = client.commandQueue.peekBack()?.command
  // Every command ioredis sends is a Command (the queue's type is wider).
  if (!(newest instanceof Command) || newest === noted.at(-1)?.command) return
  const entry = { command: newest, at: now, answered: false }
  const settle = () => {
    entry.answered = true
  }
  newest.promise.then(settle, settle)
  noted.push(entry)
}

/**
 * Fails the waiting commands with an error of its own as the socket closes: left to ioredis' close
 * handler, they would fail as "Reached the max retries per request limit", which names no hang.
 * Just before that handler rather than now, so that their callers resume with the client no
 * longer 'ready'.
 */
function drop(client: Redis, timeoutMs: number): void {
  const stream = client.stream
  if (!stream) return
  stream.prependOnceListener('close', () => {
    const err = new RedisUnansweredError(timeoutMs)
    for (const { command } of client.commandQueue.toArray()) command.reject(err)
  })
  stream.destroy()
}
