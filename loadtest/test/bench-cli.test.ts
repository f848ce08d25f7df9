// `pnpm bench`'s command line: --help, and a clear error with exit code 2 for a value it cannot run.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { cliOptions } from '../src/bench.ts'

const BENCH = join(import.meta.dirname, '..', 'src', 'bench.ts')

async function bench(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BENCH, ...args])
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

test('--help prints the usage and exits 0', async () => {
  for (const { code, stdout, stderr } of await Promise.all([bench('--help'), bench('-h')])) {
    assert.equal(code, 0)
    assert.match(stdout, /^Usage: pnpm bench \[options\]/)
    assert.match(stdout, /--max-replicas <n>/)
    assert.doesNotMatch(stdout, /--generator/)
    assert.equal(stderr, '')
  }
})

test('a value the bench cannot run is a message on stderr and exit code 2, without a stack trace', async () => {
  const cases: [string[], RegExp][] = [
    [['--max-replicas', 'abc'], /--max-replicas must be an integer from 1 to 64, not "abc"/],
    [['--seed=-1'], /--seed must be an integer from 0 to 4294967295/],
    [['--gateway', 'https://127.0.0.1:99999'], /--gateway must be a URL/],
    [['--delays', '1,x'], /--delays takes milliseconds/],
    [['--generator', 'k6'], /Unknown option '--generator'/],
  ]
  const runs = await Promise.all(cases.map(([args]) => bench(...args)))
  for (const [i, [args, message]] of cases.entries()) {
    const { code, stdout, stderr } = runs[i]!
    assert.equal(code, 2, args.join(' '))
    assert.match(stderr, message)
    assert.match(stderr, /^bench: [^\n]+\n(?:[^\n]+\n)*Run pnpm bench --help for the options\.\n$/)
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace')
    assert.equal(stdout, '')
  }
})

test('the options a valid command line asks for', () => {
  const cli = cliOptions([
    '--quick',
    '--gateway',
    'https://127.0.0.1:8443/',
    '--redis-url',
    'redis://127.0.0.1:6379',
    '--max-replicas',
    '2',
    '--seed',
    '4294967295',
    '--delays',
    '0,0.5,2',
    '--no-failover',
    '--verbose',
  ])
  assert.notEqual(cli, 'help')
  if (cli === 'help') return
  assert.deepEqual(cli.bench, {
    profile: 'quick',
    redisMode: 'standalone',
    failover: false,
    outDir: join(import.meta.dirname, '..', 'results'),
    gateway: 'https://127.0.0.1:8443',
    redisUrl: 'redis://127.0.0.1:6379',
    maxReplicas: 2,
    seed: 4294967295,
    delaysMs: [0, 0.5, 2],
  })
  assert.deepEqual([cli.verbose, cli.publish], [true, false])
  for (const none of ['none', ''])
    assert.deepEqual((cliOptions(['--delays', none]) as Exclude<typeof cli, 'help'>).bench.delaysMs, [])
  assert.equal(cliOptions(['--help']), 'help')
})
