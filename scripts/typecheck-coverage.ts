// Every tracked TypeScript file is type-checked. `tsc -b` compiles only what the referenced
// projects include, and Node strips types without checking them, so a file left out of every
// project would run, and pass CI, with type errors nobody sees. Run by `pnpm typecheck`.
import { execFile, execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'

const root = resolve(import.meta.dirname, '..')
const tsc = join(root, 'node_modules', '.bin', 'tsc')

function trackedTypeScript(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--', '*.ts', '*.mts', '*.cts'], { cwd: root })
  return out.toString('utf8').split('\0').filter(Boolean)
}

function projects(): string[] {
  const config = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as {
    references: { path: string }[]
  }
  return config.references.map((r) => r.path)
}

async function listed(project: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(tsc, ['-p', join(root, project), '--listFilesOnly'], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  })
  return stdout.split('\n').filter(Boolean)
}

const checked = new Set((await Promise.all(projects().map(listed))).flat().map((f) => resolve(f)))
const missing = trackedTypeScript().filter((f) => !checked.has(resolve(root, f)))
if (missing.length > 0) {
  console.error(
    `${missing.length} tracked TypeScript file(s) are in no project of tsconfig.json's references:`,
  )
  for (const f of missing) console.error(`  ${f}`)
  console.error(
    "Add each to its package's tsconfig.json `include` (or a new project referenced from tsconfig.json).",
  )
  process.exit(1)
}
console.log(`typecheck coverage: every tracked TypeScript file is in a project`)
