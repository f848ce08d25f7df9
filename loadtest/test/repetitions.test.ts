import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MODES } from '../lib/scenarios.js'
import { measureSameWindow, type WindowReading } from '../src/repetitions.ts'
import { seeded } from '../src/stats.ts'

// The aggregation only: the windows are scripted, so what the estimates must be is known exactly.
test('same-window measurement runs each mode on both services alike, drops windows with errors, and estimates replica CPU, server CPU and wake-ups per mode against its A/A control', async () => {
  const carriers = new Map<string, string[]>()
  let calls = 0
  let sessionFailures = 0
  const result = await measureSameWindow({
    repetitions: 4,
    random: seeded(7),
    services: ['orders', 'profile'],
    window: async (mode, modeService, noneService): Promise<WindowReading> => {
      calls++
      assert.notEqual(modeService, noneService)
      carriers.set(mode, [...(carriers.get(mode) ?? []), modeService])
      // `session`'s first two windows fail: counted, their 99× would move the median of four.
      const failed = mode === 'session' && sessionFailures < 2
      if (failed) sessionFailures++
      return mode === 'none'
        ? { replicaCpu: 1, serverCpu: 1, wakeups: { mode: 0.3, none: 0.3 }, errors: 0 }
        : {
            replicaCpu: failed ? 99 : 1.25,
            serverCpu: 1.5,
            wakeups: { mode: 0.9, none: 0.3 },
            errors: failed ? 3 : 0,
          }
    },
    log: () => {},
  })
  const slots = MODES.length // every mode but none, plus the A/A slot
  assert.equal(calls, 4 * slots)
  assert.equal(result.order.length, 4)
  // Balanced: every slot ran twice on each service in four repetitions.
  for (const [mode, services] of carriers)
    assert.deepEqual(
      services.sort(),
      ['orders', 'orders', 'profile', 'profile'],
      `${mode} ran on both services alike`,
    )
  assert.deepEqual(result.aa, { median: 1, lo: 1, hi: 1 })
  assert.equal(result.noiseFloor, 0)
  assert.equal(result.serverNoiseFloor, 0)
  for (const mode of MODES.filter((m) => m !== 'none')) {
    const m = result.modes[mode]!
    assert.equal(m.replicaCpu.median, 1.25, `${mode}: a failed window is not counted`)
    assert.equal(m.serverCpu.median, 1.5)
    assert.equal(m.withinNoise, false)
    assert.deepEqual([m.wakeups.mode.median, m.wakeups.none.median], [0.9, 0.3])
  }
})

test("a peer row in the same-window design is always answered by its peer's replicas, against `none` on each service alike, and gets its own estimate", async () => {
  const rows = ['none', 'jwt', 'textbook-jwt'] as const
  const noneSides: string[] = []
  const result = await measureSameWindow({
    repetitions: 4,
    random: seeded(3),
    services: ['orders', 'profile'],
    rows,
    carrier: (row) => (row === 'textbook-jwt' ? 'textbook' : undefined),
    window: async (row, modeService, noneService): Promise<WindowReading> => {
      if (row === 'textbook-jwt') {
        assert.equal(modeService, 'textbook')
        noneSides.push(noneService)
      } else assert.notEqual(modeService, 'textbook')
      const ratio = row === 'textbook-jwt' ? 2 : row === 'jwt' ? 1.1 : 1
      return { replicaCpu: ratio, serverCpu: ratio, wakeups: { mode: 0.5, none: 0.5 }, errors: 0 }
    },
    log: () => {},
  })
  assert.deepEqual(noneSides.sort(), ['orders', 'orders', 'profile', 'profile'])
  assert.deepEqual(Object.keys(result.modes).sort(), ['jwt', 'textbook-jwt'])
  assert.equal(result.modes['textbook-jwt']!.replicaCpu.median, 2)
  assert.ok(result.order.every((rep) => rep.includes('textbook-jwt@textbook')))
})
