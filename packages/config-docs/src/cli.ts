import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, relative } from 'node:path'
import { ENV_EXAMPLE_PATH, PAGE_PATH, renderConfigurationPage, renderEnvExample } from './page.ts'

// Usage: pnpm docs:config
for (const [path, render] of [
  [PAGE_PATH, renderConfigurationPage],
  [ENV_EXAMPLE_PATH, renderEnvExample],
] as const) {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, render())
  console.log(`wrote ${relative(process.cwd(), path)}`)
}
