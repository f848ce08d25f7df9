import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import pg from 'pg'
import { loadMigrateConfig } from '../src/config.ts'
import { migrateDatabase } from '../src/plugins/app/migrations.ts'
import { MAX_PUBLISH_DELAY_S, parseRotateKeyArgs, ROTATE_KEY_USAGE, UsageError } from '../src/rotate.ts'
import { sharedStores } from './helper.ts'

const ROTATE_KEY = fileURLToPath(new URL('../src/cli/rotate-key.ts', import.meta.url))

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** The command as an operator runs it, in an environment of only `env` (and PATH). */
async function rotateKey(args: string[], env: Record<string, string> = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [ROTATE_KEY, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 30_000,
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const { code, stdout, stderr } = err as { code?: number; stdout: string; stderr: string }
    return { code: code ?? -1, stdout, stderr }
  }
}

test('parseRotateKeyArgs: an optional whole number of seconds, or --help; anything else is a UsageError', () => {
  assert.deepEqual(parseRotateKeyArgs([]), { help: false })
  assert.deepEqual(parseRotateKeyArgs(['60']), { help: false, publishDelayS: 60 })
  assert.deepEqual(parseRotateKeyArgs(['0']), { help: false, publishDelayS: 0 })
  assert.deepEqual(parseRotateKeyArgs([String(MAX_PUBLISH_DELAY_S)]), {
    help: false,
    publishDelayS: MAX_PUBLISH_DELAY_S,
  })
  assert.deepEqual(parseRotateKeyArgs(['--help']), { help: true })
  assert.deepEqual(parseRotateKeyArgs(['-h']), { help: true })
  assert.deepEqual(parseRotateKeyArgs(['60', '--help']), { help: true })
  // Number() took each of these: '' and ' ' as 0, '1e3' as 1000, '0x10' as 16, '-5' as a negative.
  for (const bad of [
    'abc',
    '',
    ' ',
    '1.5',
    '1e3',
    '0x10',
    '+5',
    'Infinity',
    'NaN',
    String(MAX_PUBLISH_DELAY_S + 1),
  ]) {
    assert.throws(
      () => parseRotateKeyArgs([bad]),
      (err: Error) => err instanceof UsageError && /whole number of seconds from 0 to \d+/.test(err.message),
      JSON.stringify(bad),
    )
  }
  for (const bad of [['-5'], ['--delay', '5'], ['--help=yes'], ['60', '70']]) {
    assert.throws(() => parseRotateKeyArgs(bad), UsageError, JSON.stringify(bad))
  }
})

test('rotate-key --help prints the usage and exits 0, touching no database', async () => {
  // An unreachable database: --help must not even read the configuration.
  const run = await rotateKey(['--help'], { DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none' })
  assert.equal(run.code, 0, run.stderr)
  assert.equal(run.stdout.trim(), ROTATE_KEY_USAGE)
  assert.equal(run.stderr, '')
})

test('rotate-key with a bad argument says what is wrong, prints the usage and exits 2 before connecting', async () => {
  for (const args of [['abc'], ['-5'], ['1e3'], ['--delay=5'], ['60', '70']]) {
    const run = await rotateKey(args, { DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none' })
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`)
    assert.match(run.stderr, /^rotate-key: /, args.join(' '))
    assert.ok(run.stderr.includes(ROTATE_KEY_USAGE), args.join(' '))
    assert.equal(run.stdout, '')
  }
})

const stores = sharedStores()

test('rotate-key with a delay adds a key that signs from then; a failure is one line and exit 1', async () => {
  const { postgres } = stores()
  await migrateDatabase(loadMigrateConfig({ DATABASE_URL: postgres.url }))
  const before = Date.now()
  const run = await rotateKey(['120'], { DATABASE_URL: postgres.url })
  assert.equal(run.code, 0, run.stderr)
  const [, kid, activates] =
    /^new signing key (\S+): in the JWKS now, signs from (\S+)\n$/.exec(run.stdout) ?? []
  assert.ok(kid, run.stdout)
  const delayS = (Date.parse(activates as string) - before) / 1000
  assert.ok(delayS >= 119 && delayS <= 150, `signs ${delayS} s from now`)
  const pool = new pg.Pool({ connectionString: postgres.url, max: 1 })
  try {
    const { rows } = await pool.query('SELECT 1 FROM signing_keys WHERE kid = $1', [kid])
    assert.equal(rows.length, 1, 'the key is stored')
  } finally {
    await pool.end()
  }

  const down = await rotateKey(['60'], {
    DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none',
    PG_CONNECT_TIMEOUT_MS: '200',
  })
  assert.equal(down.code, 1)
  assert.match(down.stderr, /^rotate-key failed: /)
  assert.equal(down.stderr.trim().split('\n').length, 1, down.stderr)
})
