export { RevocationsNotReadyError } from './errors.ts'
export { type FeedObserver, type FeedOptions, RevocationFeed } from './feed.ts'
export { hashSessionId, keys, REVOCATION_CHANNEL } from './keys.ts'
export { revocationLog } from './log.ts'
export { type ReaderOptions, RevocationReader, redisRunId, type Snapshot } from './reader.ts'
export { type ReconcileResult, RevocationReconciler } from './reconciler.ts'
export { cutoffCovers, type Revocation, type SessionRecord, type TokenFacts, tokenFacts } from './types.ts'
export {
  type FeedMessage,
  RevocationWriter,
  type RevokeBatch,
  type SessionRewrite,
  type WriterOptions,
} from './writer.ts'
