import { keyOwner, type RedisClient } from '@authlab/clients'
import type pg from 'pg'
import { keys } from './keys.ts'
import { revocationLog } from './log.ts'
import { redisRunId } from './reader.ts'
import type { RevocationWriter } from './writer.ts'

export interface ReconcileResult {
  /** false when Redis was already complete and nothing was written */
  rebuilt: boolean
  entries: number
  sessions: number
  reason?: 'marker' | 'watermark'
}

const BATCH = 500

/**
 * Keeps Redis' copies equal to the Postgres log. Redis is complete when its ready marker names the
 * running Redis process (no restart since the last check) and its watermark has reached the log's
 * highest id (nothing was lost without a restart). Otherwise every live entry is replayed, the
 * sessions of every revoked, unexpired login are deleted and the sessions a role change rewrote are
 * rewritten with the roles Postgres holds, idempotently, then the marker is set.
 * The whole live log is replayed rather than the tail after the watermark because log ids are not
 * commit-ordered: a lower id may commit after a higher one.
 */
export class RevocationReconciler {
  readonly #redis: RedisClient
  readonly #pool: pg.Pool
  readonly #writer: RevocationWriter
  #running: Promise<ReconcileResult> | undefined

  constructor(redis: RedisClient, pool: pg.Pool, writer: RevocationWriter) {
    this.#redis = redis
    this.#pool = pool
    this.#writer = writer
  }

  /** One comparison (and rebuild if needed); concurrent calls share the run in progress. */
  reconcile(): Promise<ReconcileResult> {
    this.#running ??= this.#reconcile().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  async #reconcile(): Promise<ReconcileResult> {
    // The run_id and the marker must come from the same process: on a cluster a failover between
    // the two reads would compare the new primary's run_id with the old one's marker, or the other
    // way round, so the owner is read around them and a change means try again.
    const ownerNow = keyOwner(this.#redis, keys.ready)
    const owner = ownerNow()
    const runId = await redisRunId(this.#redis)
    const [state, logMax] = await Promise.all([this.#writer.state(), revocationLog.maxId(this.#pool)])
    if (ownerNow() !== owner) throw new Error('the revocation slot moved while reconciling; retrying')
    if (state.ready === runId && state.watermark >= logMax) return { rebuilt: false, entries: 0, sessions: 0 }
    const reason = state.ready === runId ? 'watermark' : 'marker'
    const db = await this.#pool.connect()
    try {
      await db.query('BEGIN')
      await revocationLog.lockExclusive(db)
      const watermark = await revocationLog.maxId(db)
      const entries = await revocationLog.live(db)
      const sessions = await revocationLog.revokedSessionHashes(db)
      const rewrites = await revocationLog.rewrittenSessions(db)
      const now = Date.now()
      for (let i = 0; i < Math.max(entries.length, sessions.length, rewrites.length); i += BATCH) {
        const batch = {
          entries: entries.slice(i, i + BATCH),
          sessionHashes: sessions.slice(i, i + BATCH),
          rewrites: rewrites.slice(i, i + BATCH),
        }
        await this.#writer.revoke({ ...batch, watermark: 0 }, now, { replicated: false })
      }
      await this.#writer.revoke({ entries: [], sessionHashes: [], watermark }, Date.now(), {
        replicated: false,
      })
      // The marker names the process written to; had Redis restarted meanwhile, the new run_id
      // does not match it and the next reconcile runs again. Moved meanwhile: not marked.
      if (ownerNow() !== owner) throw new Error('the revocation slot moved while reconciling; retrying')
      await this.#writer.markReady(runId)
      await db.query('COMMIT')
      return { rebuilt: true, entries: entries.length, sessions: sessions.length, reason }
    } catch (err) {
      await db.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      db.release()
    }
  }
}
