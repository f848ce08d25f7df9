import type { AlgorithmCost } from './algorithms.ts'
import type { FaultOutcome } from './faults.ts'
import type { RevocationSummary } from './revocation.ts'

export interface ModeRun {
  rps: number
  rpsSpread: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
  latencyRate: number
  errors: number
  redisCommandsPerRequest: number
  redisCpuUsPerRequest: number
  replicaCpuUsPerRequest: number
  nginxCpuUsPerRequest: number
  authCpuUsPerRequest: number
}

export interface Run {
  replicas: number
  tokenProfile: 'warm' | 'cold'
  algorithm: 'EdDSA' | 'ES256' | 'RS256'
  generator: string
  latencyGenerator: string
  modes: Record<string, ModeRun>
}

export interface Results {
  machine: Record<string, unknown> & { cpus: number; node: string }
  startedAt: string
  finishedAt?: string
  profile: 'smoke' | 'quick' | 'full'
  gateway: string
  settings: Record<string, unknown>
  skipped: string[]
  runs: Run[]
  revocation: Record<string, RevocationSummary>
  faults: Record<string, Record<string, FaultOutcome>>
  algorithms?: { verify: Record<string, AlgorithmCost>; redisRoundTripUs?: number }
  capacityModel: Record<string, unknown>
}
