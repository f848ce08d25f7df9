import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '@authlab/servers'

const CLI = join(import.meta.dirname, '../src/cli.ts')

function startCli(port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [CLI, '--replicas', '1', '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout?.on('data', (d) => (out += d))
  child.stderr?.on('data', (d) => (out += d))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready:\n${out}`)), 60_000)
    child.stdout?.on('data', () => {
      if (out.includes('cluster ready at')) {
        clearTimeout(timer)
        resolve({ child, output: () => out })
      }
    })
    child.once('exit', () => reject(new Error(`exited:\n${out}`)))
  })
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })

/** The CLI run to its end (it must end quickly: nothing is started for these command lines). */
const runCli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: 15_000,
    env: { ...process.env, ...env },
  })

test('--help (and -h) prints the usage and exits 0 without starting anything', () => {
  for (const flag of ['--help', '-h']) {
    const { status, stdout, stderr } = runCli([flag])
    assert.equal(status, 0, stderr)
    assert.match(stdout, /^Usage: pnpm cluster \[options\]/)
    for (const option of ['--replicas', '--port', '--redis', '--prometheus', '--help'])
      assert.ok(stdout.includes(option))
    assert.equal(stderr, '')
  }
})

test('an invalid --port, --replicas, --redis or an unknown option exits 2 with one line on stderr', () => {
  const cases: [string[], RegExp][] = [
    [['--port', 'abc'], /--port must be an integer from 1 to 65535, not "abc"/],
    [['--port', '0'], /--port must be an integer from 1 to 65535, not "0"/],
    [['--port', '65536'], /--port must be an integer from 1 to 65535/],
    [['--port', '80.5'], /--port must be an integer/],
    [['--port=-1'], /--port must be an integer/],
    [['--port', '-1'], /Option '--port' argument is ambiguous/],
    [['--port', ''], /--port must be an integer/],
    [['--replicas', '0'], /--replicas must be an integer of at least 1/],
    [['--redis', 'raft'], /--redis must be standalone, sentinel or cluster/],
    [['--nope'], /Unknown option '--nope'/],
    [['extra'], /Unexpected argument 'extra'/],
  ]
  for (const [args, message] of cases) {
    const { status, stdout, stderr } = runCli(args)
    assert.equal(status, 2, `${args.join(' ')}: ${stderr}`)
    assert.equal(stdout, '')
    assert.match(stderr, message)
    assert.equal(stderr.trimEnd().split('\n').length, 1, `one line: ${stderr}`)
  }
  // The environment's default is held to the same rule.
  const fromEnv = runCli([], { GATEWAY_PORT: '70000' })
  assert.equal(fromEnv.status, 2)
  assert.match(fromEnv.stderr, /--port must be an integer from 1 to 65535, not "70000"/)
})

const ports = (out: string) => [...out.matchAll(/:(\d{4,5})\b/g)].map((m) => Number(m[1]))

test('pnpm cluster prints its URL only when ready, and SIGTERM stops every process and removes its data', async () => {
  const port = await freePort()
  const { child, output } = await startCli(port)
  assert.match(output(), new RegExp(`cluster ready at http://127\\.0\\.0\\.1:${port}`))
  assert.equal((await fetch(`http://127.0.0.1:${port}/auth/healthz`)).status, 200)
  const logDir = output().match(/logs in (\S+);/)?.[1]
  assert.ok(logDir && existsSync(logDir))
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  await exited
  for (const p of ports(output())) assert.equal(await listening(p), false, `port ${p} closed`)
  assert.equal(existsSync(logDir), false, 'temporary data removed')
})

test('a runner killed with SIGKILL leaves no server behind (the kernel signals its children)', async () => {
  const port = await freePort()
  const { child, output } = await startCli(port)
  child.kill('SIGKILL')
  await sleep(2000)
  for (const p of ports(output())) assert.equal(await listening(p), false, `port ${p} closed`)
})
