// Synthetic results for the report's tests: every section has data, with figures chosen so the
// expected cells can be written down.
import { MODES } from '../lib/scenarios.js'
import type { ModeRun, Results } from '../src/results.ts'

export const est = (m: number) => ({ median: m, lo: m * 0.95, hi: m * 1.05 })
function modeRun(i: number, latency: boolean): ModeRun {
  return {
    rps: 1000 + 100 * i,
    rpsSpread: 0.05,
    rpsInterval: est(1000 + 100 * i),
    p50Ms: latency ? 1 : Number.NaN,
    p95Ms: latency ? 2 : Number.NaN,
    p99Ms: latency ? 3 + i : Number.NaN,
    latencyRate: 500,
    errors: 0,
    redisCommandsPerRequest: i % 2,
    redisCpuUsPerRequest: 10,
    replicaCpuUsPerRequest: 100 + 10 * i,
    replicaCpuInterval: est(100 + 10 * i),
    nginxCpuUsPerRequest: 20,
    authCpuUsPerRequest: i === 6 ? 300 : 1,
    vsNone: { rps: est(1 - i / 20), replicaCpu: est(1 + i / 10), totalCpu: est(1 + i / 10) },
    withinNoise: { rps: i < 2, replicaCpu: i < 2, totalCpu: i < 2 },
  }
}
/** A revocation probe's summary with per-replica windows (one list per replica, a value per trial). */
function revoked(maxMs: number, perReplica: number[]) {
  return {
    windowMsP50: maxMs / 2,
    windowMsP99: maxMs,
    windowMsMax: maxMs,
    acceptedAfterRevoke: maxMs > 0 ? 3 : 0,
    replicasSeen: 4,
    replicasAcceptingAfterRevoke: maxMs > 0 ? 2 : 0,
    trials: 3,
    replicaWindowsMs: Object.fromEntries(
      ['orders:orders-1', 'orders:orders-2', 'profile:profile-1', 'profile:profile-2'].map((r, i) => [
        r,
        perReplica.map((ms) => ms * (1 - i / 8)),
      ]),
    ),
    censored: false,
  }
}

export function synthetic(): Results {
  const run = (replicas: number, tokenProfile: 'warm' | 'cold', latency: boolean) => ({
    replicas,
    tokenProfile,
    algorithm: 'EdDSA' as const,
    generator: 'autocannon',
    latencyGenerator: 'vegeta (open model)',
    modes: Object.fromEntries(MODES.map((m, i) => [m, modeRun(i, latency)])),
    order: [[...MODES, 'none (A/A)']],
    aa: { rps: est(1.01), replicaCpu: est(0.99), totalCpu: est(1) },
    noiseFloor: { rps: 0.06, replicaCpu: 0.05, totalCpu: 0.05 },
  })
  return {
    machine: { cpus: 2, node: '24.21.0', platform: 'linux x64', pinning: 'No CPU pinning.' },
    startedAt: '2026-11-24T00:00:00.000Z',
    profile: 'quick',
    gateway: 'native cluster',
    seed: 42,
    settings: { windowS: 0.5, warmupS: 0.2, repetitions: 3, accessTokenTtlS: 3600 },
    skipped: [],
    // The quick profile measures latency only at the largest count: the chart must not plot NaN.
    runs: [run(1, 'warm', false), run(2, 'warm', true), run(2, 'cold', true)],
    revocation: {
      session: revoked(0, [0, 0, 0]),
      'session-cached': revoked(900, [400, 900, 0]),
      'jwt-denylist': revoked(0, [0, 0, 0]),
      'jwt-pushed': revoked(12, [3, 12, 0]),
      introspect: revoked(0, [0, 0, 0]),
      jwt: {
        windowMsP50: 2500,
        windowMsP99: 2500,
        windowMsMax: 2500,
        acceptedAfterRevoke: 9,
        replicasSeen: 4,
        replicasAcceptingAfterRevoke: 4,
        trials: 3,
        censored: true,
      },
    },
    faults: {
      'redis-stopped': {
        session: { requests: 100, ok: 60, statusCounts: { '200': 60, '503': 40 }, revokedAccepted: 0 },
      },
    },
    algorithms: { verify: { EdDSA: { coldVerifyUs: 150, warmVerifyUs: 4, signUs: 70, rawVerifyUs: 140 } } },
    capacityModel: {
      calibration: {
        replicas: 1,
        replicaQuota: 0.1,
        idle: { replicaUsPerS: 9000, redisUsPerS: 4500, authUsPerS: 9000 },
        modes: {
          none: {
            rps: 1200,
            replicaUsPerRequest: 75,
            nginxUsPerRequest: 45,
            authUsPerRequest: 0,
            redisCommandsPerRequest: 0,
            redisUsPerCommand: 0,
          },
          jwt: {
            rps: 1100,
            replicaUsPerRequest: 88,
            nginxUsPerRequest: 46,
            authUsPerRequest: 0,
            redisCommandsPerRequest: 0,
            redisUsPerCommand: 0,
          },
          session: {
            rps: 700,
            replicaUsPerRequest: 148,
            nginxUsPerRequest: 60,
            authUsPerRequest: 0,
            redisCommandsPerRequest: 1,
            redisUsPerCommand: 12,
          },
          'jwt-pushed': {
            rps: 1000,
            replicaUsPerRequest: 97,
            nginxUsPerRequest: 51,
            authUsPerRequest: 0,
            redisCommandsPerRequest: 0,
            redisUsPerCommand: 0,
          },
          introspect: {
            rps: 250,
            replicaUsPerRequest: 380,
            nginxUsPerRequest: 117,
            authUsPerRequest: 646,
            redisCommandsPerRequest: 11,
            redisUsPerCommand: 9,
          },
        },
        redis: { usPerCommand: 10, quota: 0.02 },
        login: { logins: 8, authUs: 17000, postgresUs: 1300, redisUs: 600 },
        redisCluster: { primaries: 3, usPerCommand: 31, idleUsPerSPerNode: 4800 },
      },
      checks: [
        {
          name: 'replicas',
          mode: 'jwt',
          topology: 'standalone',
          replicas: 2,
          limit: 'each of 4 replicas held to 0.1 of a core',
          predictedRps: 4000,
          measuredRps: 3800,
          ratio: 0.95,
          quotaUsed: 0.98,
        },
        {
          name: 'redis-cluster',
          mode: 'session',
          topology: 'cluster',
          replicas: 1,
          limit: 'each of 3 primaries held to 0.013 of a core',
          predictedRps: 800,
          measuredRps: 843,
          ratio: 1.05,
          quotaUsed: 1.02,
        },
      ],
      modes: {
        none: {
          predictedMaxRps: { 1: 2000, 2: 4000, 4: 8000, 8: 16000, 16: 32000, 32: 64000, 64: 128000 },
          limitedBy: { 64: 'replicas' },
        },
        session: {
          predictedMaxRps: { 1: 1500, 2: 3000, 4: 6000, 8: 12000, 16: 20000, 32: 20000, 64: 20000 },
          limitedBy: { 64: 'redis' },
        },
      },
      validation: {
        mode: 'session',
        replicas: 2,
        redisCpuQuota: 0.02,
        predictedRps: 350,
        measuredRps: 300,
        redisCpuUsPerRequest: 66,
        modelRedisCpuUsPerRequest: 57,
        quotaUsed: 0.99,
      },
    },
  }
}

/** Same-window ratios on every run: the mode i at 1 + i/10 of `none`, `jwt` within noise. */
export function withSameWindow(r: Results): Results {
  r.settings = { ...r.settings, sameWindowRepetitions: 12, sameWindowS: 0.75 }
  for (const run of r.runs) {
    run.sameWindow = {
      aa: est(1.0),
      noiseFloor: 0.03,
      serverAa: est(1.0),
      serverNoiseFloor: 0.04,
      repetitions: 12,
      windowS: 0.75,
      order: [['jwt@orders']],
    }
    MODES.forEach((m, i) => {
      if (m !== 'none')
        run.modes[m]!.sameWindow = {
          replicaCpu: est(1 + i / 10),
          withinNoise: i === 1,
          serverCpu: est(1.25),
          serverWithinNoise: false,
          wakeups: { mode: est(0.8), none: est(0.3) },
        }
    })
  }
  return r
}

/** A revocation-probe summary as the peer probe writes it: `accepting` of 2 replicas after the action. */
function peerSummary(accepting: number) {
  return {
    windowMsP50: accepting ? 2400 : 0,
    windowMsP99: accepting ? 2450 : 0,
    windowMsMax: accepting ? 2450 : 0,
    acceptedAfterRevoke: accepting ? 40 : 0,
    replicasSeen: 2,
    replicasAcceptingAfterRevoke: accepting,
    trials: 3,
    censored: accepting > 0,
  }
}

/**
 * The textbook peer measured beside the modes on every run (textbook-session at 1.5× none, with one
 * Redis command per request; textbook-jwt at 1.8×) and its probe: the tutorial's JWT and other
 * session accepted on 2/2 replicas after logout and logout-all, authlab's own refusing.
 */
export function withPeers(r: Results): Results {
  for (const run of r.runs) {
    const row = (ratio: number, commands: number) => ({
      ...modeRun(1, true),
      rps: 900,
      p95Ms: 2.5,
      redisCommandsPerRequest: commands,
      sameWindow: { replicaCpu: est(ratio), withinNoise: false },
    })
    run.peers = { 'textbook-session': row(1.5, 1), 'textbook-jwt': row(1.8, 0) }
  }
  r.peerProbe = {
    replicas: 2,
    trials: 3,
    windowMs: 2500,
    logout: { 'textbook-session': peerSummary(0), 'textbook-jwt': peerSummary(2) },
    logoutAll: {
      'other-session': peerSummary(2),
      'other-jwt': peerSummary(2),
      'logged-out-session': peerSummary(0),
      'logged-out-jwt': peerSummary(2),
      'authlab-session': { ...peerSummary(0), replicasSeen: 4 },
      'authlab-jwt-denylist': { ...peerSummary(0), replicasSeen: 4 },
    },
  }
  return r
}

/**
 * A size phase's figures (loadtest/src/size.ts): a 40-byte `sid` cookie, a 300-byte EdDSA token
 * growing with its claims, and per mode a request whose credential is what sets it apart.
 */
export function withSize(r: Results): Results {
  const tokens = ['EdDSA', 'ES256', 'RS256'].flatMap((algorithm, a) =>
    ['current', '+tenant', '+10 claims', '+50 claims'].map((claims, c) => {
      const tokenBytes = 300 + 40 * a * a + [0, 60, 400, 2000][c]!
      return {
        algorithm,
        claims,
        addedClaims: [0, 1, 10, 50][c]!,
        tokenBytes,
        authorizationBytes: tokenBytes + 24,
      }
    }),
  )
  const credential = { none: 0, session: 47, jwt: 300 } as Record<string, number>
  r.size = {
    sessionCookie: { name: 'sid', pairBytes: 47, setCookieBytes: 90 },
    claims: ['sub', 'sid', 'roles', 'jti', 'iat', 'exp', 'iss', 'aud'],
    issued: { algorithm: 'EdDSA', tokenBytes: 300, authorizationBytes: 324 },
    tokens,
    credentialBytes: { session: 47, jwt: 300 },
    wire: ['none', 'session', 'jwt'].map((mode) => ({
      mode,
      requests: 100,
      requestBytes: 80 + (credential[mode] ?? 0) + (mode === 'none' ? 0 : 10),
      responseBytes: 250,
      failed: 0,
    })),
  }
  return r
}
