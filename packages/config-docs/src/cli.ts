import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, relative } from 'node:path'
import { PAGE_PATH, renderConfigurationPage } from './page.ts'

// Usage: pnpm docs:config
mkdirSync(dirname(PAGE_PATH), { recursive: true })
writeFileSync(PAGE_PATH, renderConfigurationPage())
console.log(`wrote ${relative(process.cwd(), PAGE_PATH)}`)
