// The workspace's packages find each other through their manifests: every `exports` target exists,
// every workspace dependency names a package, and the Dockerfile installs from every manifest.
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { DOWNSTREAM_SERVICES } from '@authlab/contract'
import { PEER_SERVICES } from '../src/peers.ts'

const ROOT = join(import.meta.dirname, '../../..')

interface Manifest {
  name: string
  exports?: string | Record<string, unknown>
  bin?: string | Record<string, string>
  main?: string
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
}

/** Every workspace package's directory (relative), from pnpm-workspace.yaml's `packages:` globs. */
function workspaceDirs(): string[] {
  const yaml = readFileSync(join(ROOT, 'pnpm-workspace.yaml'), 'utf8')
  const block = yaml.match(/^packages:\n((?:[ \t]+-[^\n]*\n)+)/m)?.[1] ?? ''
  const globs = [...block.matchAll(/-\s*['"]?([^'"\n]+?)['"]?\s*$/gm)].map((m) => m[1]!)
  assert.ok(globs.length > 0, 'pnpm-workspace.yaml lists packages')
  return globs.flatMap((glob) => {
    if (!glob.endsWith('/*')) return [glob]
    const parent = glob.slice(0, -2)
    return readdirSync(join(ROOT, parent), { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(join(ROOT, parent, e.name, 'package.json')))
      .map((e) => `${parent}/${e.name}`)
  })
}

const packages = workspaceDirs().map((dir) => ({
  dir,
  manifest: JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as Manifest,
}))
const byName = new Map(packages.map((p) => [p.manifest.name, p]))

/** Every target string of an exports map (conditions included), with the subpath it serves. */
function exportTargets(exports: Manifest['exports']): [string, string][] {
  if (exports === undefined) return []
  if (typeof exports === 'string') return [['.', exports]]
  const targets: [string, string][] = []
  const walk = (subpath: string, value: unknown) => {
    if (typeof value === 'string') targets.push([subpath, value])
    else if (Array.isArray(value)) for (const v of value) walk(subpath, v)
    else if (value && typeof value === 'object') for (const v of Object.values(value)) walk(subpath, v)
  }
  for (const [subpath, value] of Object.entries(exports)) walk(subpath, value)
  return targets
}

test('every exports, bin and main target of every workspace package exists', () => {
  assert.ok(packages.length >= 10, `found ${packages.length} packages`)
  const missing: string[] = []
  for (const { dir, manifest } of packages) {
    const targets = [
      ...exportTargets(manifest.exports).map(
        ([subpath, target]) => [`exports["${subpath}"]`, target] as const,
      ),
      ...Object.entries(typeof manifest.bin === 'string' ? { bin: manifest.bin } : (manifest.bin ?? {})).map(
        ([name, target]) => [`bin.${name}`, target] as const,
      ),
      ...(manifest.main ? [['main', manifest.main] as const] : []),
    ]
    for (const [field, target] of targets) {
      if (!target.startsWith('./')) {
        missing.push(`${dir}/package.json ${field}: ${target} (targets start with ./)`)
        continue
      }
      // A pattern (./src/*.ts) needs at least its directory.
      const path = join(
        ROOT,
        dir,
        target.includes('*') ? dirname(target.slice(0, target.indexOf('*') + 1)) : target,
      )
      if (!existsSync(path) || (!target.includes('*') && !statSync(path).isFile()))
        missing.push(`${dir}/package.json ${field}: ${target}`)
    }
  }
  assert.deepEqual(missing, [], `targets that do not exist:\n${missing.join('\n')}`)
})

test('every workspace:* dependency names a workspace package', () => {
  const unknown: string[] = []
  for (const { dir, manifest } of packages) {
    for (const [name, spec] of Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })) {
      if (spec.startsWith('workspace:') && !byName.has(name)) unknown.push(`${dir}: ${name}`)
    }
  }
  assert.deepEqual(unknown, [])
})

test("@authlab/cluster resolves each service's entry point and infra's files through their manifests", () => {
  const cluster = byName.get('@authlab/cluster')!.manifest
  for (const service of ['auth', ...DOWNSTREAM_SERVICES, ...PEER_SERVICES]) {
    assert.equal(
      cluster.dependencies?.[`@authlab/${service}`],
      'workspace:*',
      `cluster depends on ${service}`,
    )
    assert.equal(byName.get(`@authlab/${service}`)?.dir, `services/${service}`)
  }
  // Every export of every workspace package cluster depends on, resolved as Node resolves it here.
  for (const name of Object.keys(cluster.dependencies ?? {}).filter((n) => byName.has(n))) {
    const { dir, manifest } = byName.get(name)!
    for (const [subpath, target] of exportTargets(manifest.exports)) {
      if (subpath.includes('*')) continue
      const resolved = fileURLToPath(
        import.meta.resolve(subpath === '.' ? name : `${name}/${subpath.slice(2)}`),
      )
      assert.equal(relative(ROOT, resolved), join(dir, target), `${name} ${subpath}`)
    }
  }
})

test('the Dockerfile copies every workspace manifest before `pnpm install --frozen-lockfile`', () => {
  const dockerfile = readFileSync(join(ROOT, 'infra/docker/Dockerfile'), 'utf8')
  const copied = [...dockerfile.matchAll(/^COPY (\S+)\/package\.json \1\/$/gm)].map((m) => m[1]!)
  assert.deepEqual(copied.sort(), packages.map((p) => p.dir).sort())
})
