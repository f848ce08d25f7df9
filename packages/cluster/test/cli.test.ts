import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { connect } from 'node:net'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '@authlab/servers'

const CLI = new URL('../src/cli.ts', import.meta.url).pathname

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
