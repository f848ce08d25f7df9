// What sessions and revocations cost in Redis memory and in a jwt-pushed replica, as the live
// set grows (loadtest/src/storage.ts), on a Redis of its own so the cluster's keys do not count.
import type { Results } from '../results.ts'
import { measureStorage } from '../storage.ts'
import type { BenchContext } from './context.ts'

export function storageApplies(ctx: BenchContext): boolean | string {
  return ctx.profile.storageSizes.length > 0 || 'storage: the profile measures no set sizes'
}

export async function measureStorageCosts(ctx: BenchContext): Promise<Pick<Results, 'storage'>> {
  return { storage: await measureStorage(ctx.profile.storageSizes, ctx.log) }
}
