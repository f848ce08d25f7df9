import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { before, test } from 'node:test'
import { MigrateConfigSchema } from '@authlab/auth'
import { DOWNSTREAM_SERVICES } from '@authlab/contract'
import { parse, parseAllDocuments } from 'yaml'

// The Kubernetes manifests (infra/k8s), for real: kustomize renders the base and the local overlay,
// kubeconform validates every object strictly against JSON schemas made from the Kubernetes OpenAPI
// document (scripts/setup.sh installs both and makes the schemas into .tools/), and the assertions
// below check what a schema cannot: probes, hardening, variables, network reach, secrets.
const ROOT = join(import.meta.dirname, '../..')
const BIN = join(ROOT, '.tools/bin')
const KUSTOMIZE = join(BIN, 'kustomize')
const KUBECONFORM = join(BIN, 'kubeconform')
const SCHEMAS = join(ROOT, '.tools/k8s-schemas')
// setup.sh pins the version once; the schema directory is named after it.
const K8S_VERSION = readFileSync(join(ROOT, 'scripts/setup.sh'), 'utf8').match(
  /^K8S_SCHEMA_VERSION=v(\S+)$/m,
)?.[1]
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8')

// Without Go, setup can install neither tool: skip, saying so. With Go, a missing tool is a failure.
const hasGo = ['go', '/usr/local/go/bin/go'].some((go) => spawnSync(go, ['version']).status === 0)
const toolsPresent = () =>
  existsSync(KUSTOMIZE) &&
  existsSync(KUBECONFORM) &&
  existsSync(join(SCHEMAS, `v${K8S_VERSION}-standalone-strict`))
const skip =
  !toolsPresent() && !hasGo
    ? 'no Go: scripts/setup.sh installs kustomize and kubeconform with `go install` (CI has Go)'
    : false

type Labels = Record<string, string>
interface Selector {
  matchLabels?: Labels
  matchExpressions?: { key: string; operator: string; values?: string[] }[]
}
interface KeyRef {
  name: string
  key: string
}
interface EnvVar {
  name: string
  value?: string
  valueFrom?: { secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef; fieldRef?: { fieldPath: string } }
}
interface Probe {
  httpGet?: { path: string; port: string | number }
  exec?: { command: string[] }
  tcpSocket?: { port: string | number }
}
interface SecurityContext {
  runAsNonRoot?: boolean
  runAsUser?: number
  allowPrivilegeEscalation?: boolean
  readOnlyRootFilesystem?: boolean
  capabilities?: { drop?: string[]; add?: string[] }
  seccompProfile?: { type: string }
}
interface Container {
  name: string
  image: string
  command?: string[]
  ports?: { name?: string; containerPort: number }[]
  env?: EnvVar[]
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[]
  startupProbe?: Probe
  readinessProbe?: Probe
  livenessProbe?: Probe
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> }
  securityContext?: SecurityContext
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[]
}
interface Volume {
  name: string
  configMap?: { name: string; items?: { key: string }[]; defaultMode?: number }
  secret?: { secretName: string; items?: { key: string }[] }
}
interface PodSpec {
  containers: Container[]
  initContainers?: Container[]
  securityContext?: SecurityContext
  automountServiceAccountToken?: boolean
  volumes?: Volume[]
}
interface WorkloadSpec {
  replicas?: number
  selector: Selector
  template: { metadata: { labels: Labels }; spec: PodSpec }
  volumeClaimTemplates?: unknown[]
}
interface NetworkPolicyPeer {
  podSelector?: Selector
  namespaceSelector?: Selector
  ipBlock?: unknown
}
interface NetworkPolicySpec {
  podSelector: Selector
  policyTypes?: string[]
  ingress?: { from?: NetworkPolicyPeer[]; ports?: { port?: number | string; protocol?: string }[] }[]
}
interface K8sObject {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Labels }
  data?: Record<string, string>
  spec?: unknown
}

function run(command: string, args: string[], input?: string) {
  const result = spawnSync(command, args, { input, encoding: 'utf8', maxBuffer: 1 << 26 })
  if (result.error) throw result.error
  return result
}

function build(dir: string): { text: string; objects: K8sObject[] } {
  const { status, stdout, stderr } = run(KUSTOMIZE, ['build', join(ROOT, dir)])
  assert.equal(status, 0, `kustomize build ${dir}: ${stderr}`)
  const objects = parseAllDocuments(stdout).map((doc) => {
    assert.deepEqual(doc.errors, [], `kustomize build ${dir} printed YAML`)
    return doc.toJS() as K8sObject
  })
  return { text: stdout, objects }
}

interface Verdict {
  resources: { kind: string; name: string; status: string; msg: string }[]
  summary: { valid: number; invalid: number; errors: number; skipped: number }
}

/** kubeconform, strict, offline: only the schemas setup made; a kind without one is an error. */
function kubeconform(manifests: string): { status: number | null; verdict: Verdict } {
  const args = ['-strict', '-summary', '-verbose', '-output', 'json']
  args.push('-schema-location', SCHEMAS, '-kubernetes-version', K8S_VERSION!, '-')
  const { status, stdout, stderr } = run(KUBECONFORM, args, manifests)
  assert.ok(stdout.trim(), `kubeconform printed nothing: ${stderr}`)
  return { status, verdict: JSON.parse(stdout) as Verdict }
}

let base: { text: string; objects: K8sObject[] }
let local: { text: string; objects: K8sObject[] }

before(() => {
  if (skip) return
  assert.ok(K8S_VERSION, 'scripts/setup.sh pins K8S_SCHEMA_VERSION')
  assert.ok(
    toolsPresent(),
    'kustomize, kubeconform or the schemas are missing: run bash scripts/run.sh setup',
  )
  base = build('infra/k8s/base')
  local = build('infra/k8s/overlays/local')
})

const ofKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind)
const named = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  // Generated ConfigMaps and Secrets carry a content hash after their name.
  const found = objects.find(
    (o) => o.kind === kind && (o.metadata.name === name || o.metadata.name.startsWith(`${name}-`)),
  )
  assert.ok(found, `${kind} ${name} is rendered`)
  return found
}
const workloads = (objects: K8sObject[]) =>
  objects
    .filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')
    .map((o) => ({ object: o, spec: o.spec as WorkloadSpec, pod: (o.spec as WorkloadSpec).template.spec }))
const workload = (objects: K8sObject[], name: string) => {
  const found = workloads(objects).find((w) => w.object.metadata.name === name)
  assert.ok(found, `workload ${name} is rendered`)
  return found
}
const containersOf = (pod: PodSpec) => [...(pod.initContainers ?? []), ...pod.containers]
const SERVICES = ['auth', ...DOWNSTREAM_SERVICES] as const

test('kustomize renders the base and the local overlay, and kubeconform finds every object valid in strict mode', {
  skip,
}, () => {
  for (const [dir, rendered] of [
    ['base', base],
    ['overlays/local', local],
  ] as const) {
    const { status, verdict } = kubeconform(rendered.text)
    const bad = verdict.resources.filter((r) => r.status !== 'statusValid')
    assert.deepEqual(
      bad.map((r) => `${r.kind}/${r.name}: ${r.msg}`),
      [],
      `${dir}: every object is valid`,
    )
    assert.equal(status, 0)
    assert.deepEqual(verdict.summary, { valid: rendered.objects.length, invalid: 0, errors: 0, skipped: 0 })
  }
  // What the overlay adds is validated too, not only the base.
  const kinds = new Set(local.objects.map((o) => o.kind))
  for (const kind of [
    'Deployment',
    'StatefulSet',
    'Service',
    'ConfigMap',
    'Secret',
    'NetworkPolicy',
    'Namespace',
  ]) {
    assert.ok(kinds.has(kind), `the overlay renders a ${kind}`)
  }
  for (const kind of ['PodDisruptionBudget', 'HorizontalPodAutoscaler']) assert.ok(kinds.has(kind))
})

test('kubeconform rejects our manifests with a misspelled field, a mistyped value or an unknown API version', {
  skip,
}, () => {
  const broken = [
    ['readOnlyRootFilesystem: true', 'readOnlyRootFileSystem: true', /readOnlyRootFileSystem/],
    ['averageUtilization: 70', 'averageUtilization: "70%"', /averageUtilization/],
    ['apiVersion: autoscaling/v2', 'apiVersion: autoscaling/v9', /could not find schema/],
  ] as const
  // The schemas are there for what we use, and not for what does not exist.
  const schemaDir = join(SCHEMAS, `v${K8S_VERSION}-standalone-strict`)
  assert.ok(existsSync(join(schemaDir, 'horizontalpodautoscaler-autoscaling-v2.json')))
  assert.ok(!existsSync(join(schemaDir, 'horizontalpodautoscaler-autoscaling-v9.json')))
  for (const [from, to, message] of broken) {
    assert.ok(local.text.includes(from), `the overlay contains ${from}`)
    const { status, verdict } = kubeconform(local.text.replace(from, to))
    assert.notEqual(status, 0, `${to} fails validation`)
    const failed = verdict.resources.filter((r) => r.status !== 'statusValid')
    assert.equal(failed.length, 1, `exactly the broken object fails: ${JSON.stringify(failed)}`)
    assert.match(failed[0]!.msg, message)
  }
})

test('every container has readiness and liveness probes; auth, orders and profile also a startup probe, on their healthz and readyz at their port', {
  skip,
}, () => {
  for (const { object, pod } of workloads(local.objects)) {
    for (const c of pod.containers) {
      assert.ok(c.readinessProbe, `${object.metadata.name}/${c.name} has a readiness probe`)
      assert.ok(c.livenessProbe, `${object.metadata.name}/${c.name} has a liveness probe`)
    }
  }
  for (const service of SERVICES) {
    const { pod } = workload(local.objects, service)
    const [c] = pod.containers
    const config = named(local.objects, 'ConfigMap', service === 'auth' ? 'auth-config' : 'downstream-config')
    const port = Number(config.data!.PORT)
    const portOf = (probe: Probe | undefined) => {
      const p = probe?.httpGet?.port
      return typeof p === 'number' ? p : c!.ports?.find((cp) => cp.name === p)?.containerPort
    }
    assert.equal(c!.ports?.[0]?.containerPort, port, `${service} exposes the PORT it listens on`)
    for (const [probe, path] of [
      [c!.startupProbe, `/${service}/healthz`],
      [c!.livenessProbe, `/${service}/healthz`],
      [c!.readinessProbe, `/${service}/readyz`],
    ] as const) {
      assert.equal(probe?.httpGet?.path, path)
      assert.equal(portOf(probe), port, `${service}'s ${path} probe targets port ${port}`)
    }
  }
})

test('every pod and container runs non-root as its image user, read-only, without privilege escalation, capabilities or a service-account token', {
  skip,
}, () => {
  // The images' unprivileged users: node (infra/docker/Dockerfile: USER node), nginx, redis, postgres.
  assert.match(read('infra/docker/Dockerfile'), /^USER node$/m)
  const imageUser: [RegExp, number][] = [
    [/^authlab\//, 1000],
    [/^nginx:/, 101],
    [/^redis:/, 999],
    [/^postgres:/, 999],
  ]
  const all = workloads(local.objects)
  assert.equal(all.length, 6, 'auth, orders, profile, gateway, redis, postgres')
  for (const { object, pod } of all) {
    const where = object.metadata.name
    assert.equal(pod.automountServiceAccountToken, false, `${where}: no service-account token`)
    assert.equal(pod.securityContext?.runAsNonRoot, true, `${where}: pod runAsNonRoot`)
    for (const c of containersOf(pod)) {
      const sc: SecurityContext = c.securityContext ?? {}
      const uid: number | undefined = sc.runAsUser ?? pod.securityContext?.runAsUser
      const expected = imageUser.find(([image]) => image.test(c.image))?.[1]
      assert.ok(expected !== undefined, `${where}: a known image (${c.image})`)
      assert.equal(uid, expected, `${where}/${c.name} runs as its image's user ${expected}`)
      assert.notEqual(sc.runAsNonRoot, false)
      assert.equal(sc.allowPrivilegeEscalation, false, `${where}/${c.name}: allowPrivilegeEscalation false`)
      assert.equal(sc.readOnlyRootFilesystem, true, `${where}/${c.name}: read-only root`)
      assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${where}/${c.name}: drops ALL capabilities`)
      assert.equal(sc.capabilities?.add, undefined, `${where}/${c.name}: adds none`)
      const seccomp: string | undefined = sc.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type
      assert.equal(seccomp, 'RuntimeDefault', `${where}/${c.name}: RuntimeDefault seccomp`)
    }
  }
  // And the namespace refuses any pod that is not so (Pod Security Standard "restricted").
  const ns = named(local.objects, 'Namespace', 'authlab')
  assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted')
})

/** CPU in millicores, memory in bytes. */
function quantity(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(m|k|M|G|Ki|Mi|Gi)?$/.exec(String(value))
  assert.ok(m, `a quantity: ${value}`)
  const unit = { '': 1000, m: 1, k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2] ?? '']!
  return Number(m[1]) * unit
}

test('every container has CPU and memory requests and limits, and requests no more than its limits', {
  skip,
}, () => {
  for (const { object, pod } of workloads(local.objects)) {
    for (const c of containersOf(pod)) {
      for (const resource of ['cpu', 'memory']) {
        const request = c.resources?.requests?.[resource]
        const limit = c.resources?.limits?.[resource]
        assert.ok(request && limit, `${object.metadata.name}/${c.name}: ${resource} request and limit`)
        assert.ok(
          quantity(request) <= quantity(limit),
          `${object.metadata.name}/${c.name}: ${resource} request <= limit`,
        )
      }
    }
  }
})

/** Every variable a container gets, resolved through the rendered ConfigMaps and Secrets. */
function environment(objects: K8sObject[], c: Container): Map<string, string | undefined> {
  const env = new Map<string, string | undefined>()
  const decode = (secret: K8sObject, key: string) => {
    const value = secret.data?.[key]
    return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8')
  }
  for (const from of c.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef
    const source = objects.find((o) => o.metadata.name === ref?.name)
    assert.ok(source, `${c.name}: envFrom ${ref?.name} exists`)
    for (const key of Object.keys(source.data ?? {})) {
      env.set(key, source.kind === 'Secret' ? decode(source, key) : source.data![key])
    }
  }
  for (const v of c.env ?? []) {
    const ref = v.valueFrom?.secretKeyRef ?? v.valueFrom?.configMapKeyRef
    if (!ref) {
      env.set(v.name, v.value)
      continue
    }
    const source = objects.find((o) => o.metadata.name === ref.name)
    if (!source) {
      env.set(v.name, undefined) // the base only names its Secrets; an overlay provides them
      continue
    }
    assert.ok(source.data && ref.key in source.data, `${c.name}: ${ref.name} has key ${ref.key}`)
    env.set(v.name, source.kind === 'Secret' ? decode(source, ref.key) : source.data[ref.key])
  }
  return env
}

async function configSchemas(): Promise<Record<string, Set<string>>> {
  // Imported at run time by path: infra's TypeScript project does not build the services.
  const load = async (path: string, name: string) => {
    const module = (await import(new URL(`../../${path}`, import.meta.url).href)) as Record<
      string,
      { properties: Record<string, unknown> }
    >
    return new Set(Object.keys(module[name]!.properties))
  }
  const auth = await load('services/auth/src/config.ts', 'AuthConfigSchema')
  const downstream = await load('packages/downstream/src/config.ts', 'DownstreamConfigSchema')
  return { auth, orders: downstream, profile: downstream }
}

/** docker-compose.yml's environment of a service, every `${VAR:-default}` at its default. */
function composeEnvironment(service: string): Map<string, string> {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, { environment: Record<string, string>; image: string }>
  }
  const env = compose.services[service]!.environment
  const expand = (value: string) => String(value).replace(/\$\{\w+:-([^}]*)\}/g, '$1')
  return new Map(Object.entries(env).map(([k, v]) => [k, expand(v)]))
}

test('auth, orders and profile get only variables their config schemas define, and every ConfigMap and Secret key they reference exists', {
  skip,
}, async () => {
  const schemas = await configSchemas()
  for (const [name, rendered] of [
    ['base', base],
    ['overlays/local', local],
  ] as const) {
    for (const service of SERVICES) {
      const [c] = workload(rendered.objects, service).pod.containers
      const env = environment(rendered.objects, c!)
      const unknown = [...env.keys()].filter((k) => !schemas[service]!.has(k))
      assert.deepEqual(unknown, [], `${name}: ${service}'s variables are all in its config schema`)
    }
  }
  // Mounted ConfigMaps and Secrets exist with the keys mounted.
  for (const { object, pod } of workloads(local.objects)) {
    for (const v of pod.volumes ?? []) {
      const ref = v.configMap?.name ?? v.secret?.secretName
      if (!ref) continue
      const source = local.objects.find((o) => o.metadata.name === ref)
      assert.ok(source, `${object.metadata.name}: volume ${v.name} refers to ${ref}, which exists`)
      for (const item of v.configMap?.items ?? v.secret?.items ?? [])
        assert.ok(item.key in (source.data ?? {}))
    }
  }
})

test('the local overlay gives each service the variables and development values docker compose gives it', {
  skip,
}, () => {
  // Where Kubernetes differs on purpose: the key-encryption key is a mounted Secret file, compose's
  // empty JWT_PRIVATE_KEY and KEY_ENCRYPTION_KEY_PREVIOUS are left unset, the gateway's address is
  // not fixed (TRUST_PROXY) and port-forward speaks plain HTTP (COOKIE_SECURE).
  const renamed: Record<string, string> = { KEY_ENCRYPTION_KEY: 'KEY_ENCRYPTION_KEY_FILE' }
  const unset = new Set(['JWT_PRIVATE_KEY', 'KEY_ENCRYPTION_KEY_PREVIOUS'])
  const ownValue = new Set(['TRUST_PROXY', 'COOKIE_SECURE', 'KEY_ENCRYPTION_KEY_FILE'])
  for (const service of SERVICES) {
    const compose = composeEnvironment(service)
    const k8s = environment(local.objects, workload(local.objects, service).pod.containers[0]!)
    const expected = [...compose.keys()].filter((k) => !unset.has(k)).map((k) => renamed[k] ?? k)
    assert.deepEqual(
      [...k8s.keys()].sort(),
      expected.sort(),
      `${service}: the same variable names as compose`,
    )
    for (const [name, value] of compose) {
      if (unset.has(name) || ownValue.has(renamed[name] ?? name)) continue
      assert.equal(k8s.get(name), value, `${service}: ${name} as in compose`)
    }
  }
  // The key-encryption key's file holds compose's development key.
  const auth = workload(local.objects, 'auth').pod
  const file = environment(local.objects, auth.containers[0]!).get('KEY_ENCRYPTION_KEY_FILE')!
  const mount = auth.containers[0]!.volumeMounts!.find((m) => file.startsWith(`${m.mountPath}/`))
  const volume = auth.volumes!.find((v) => v.name === mount?.name)
  const secret = named(local.objects, 'Secret', volume!.secret!.secretName)
  assert.equal(
    Buffer.from(secret.data!.KEY_ENCRYPTION_KEY!, 'base64').toString(),
    composeEnvironment('auth').get('KEY_ENCRYPTION_KEY'),
  )
})

test("auth's pod migrates first, in an init container running compose's migrate command with compose's variables; only it gets the schema owner's URL", {
  skip,
}, async () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<
      string,
      { image: string; command?: string[]; depends_on?: Record<string, { condition: string }> }
    >
  }
  assert.deepEqual(compose.services.auth!.depends_on?.migrate, {
    condition: 'service_completed_successfully',
  })
  assert.equal(compose.services.migrate!.image, compose.services.auth!.image, 'the auth image')
  assert.ok(!composeEnvironment('auth').has('DATABASE_MIGRATION_URL'), "compose's auth lacks it")
  const migrateSchema = MigrateConfigSchema
  for (const [name, rendered] of [
    ['base', base],
    ['overlays/local', local],
  ] as const) {
    const { pod } = workload(rendered.objects, 'auth')
    assert.deepEqual(
      (pod.initContainers ?? []).map((c) => c.name),
      ['migrate'],
      `${name}: one init container`,
    )
    const [migrate] = pod.initContainers!
    const [auth] = pod.containers
    assert.equal(migrate!.image, auth!.image)
    assert.deepEqual(migrate!.command, compose.services.migrate!.command)
    const env = environment(rendered.objects, migrate!)
    assert.deepEqual([...env.keys()].sort(), ['DATABASE_MIGRATION_URL', 'DATABASE_URL'])
    for (const key of env.keys()) assert.ok(key in migrateSchema.properties, `${key} is read by migrate`)
    assert.ok(
      !environment(rendered.objects, auth!).has('DATABASE_MIGRATION_URL'),
      `${name}: the auth container lacks it`,
    )
    if (name === 'overlays/local') {
      const composeMigrate = composeEnvironment('migrate')
      for (const [key, value] of env) assert.equal(value, composeMigrate.get(key), `${key} as in compose`)
      assert.equal(env.get('DATABASE_URL'), environment(rendered.objects, auth!).get('DATABASE_URL'))
    }
  }
})

test('the gateway renders the nginx template compose uses and runs its trusted-proxies script, given exactly the variables both read', {
  skip,
}, () => {
  const template = read('infra/nginx/authlab.conf.template')
  assert.equal(named(base.objects, 'ConfigMap', 'gateway-template').data!['authlab.conf.template'], template)
  const { pod } = workload(base.objects, 'gateway')
  const [nginx] = pod.containers
  const mount = nginx!.volumeMounts!.find((m) => m.mountPath.startsWith('/etc/nginx/templates/'))
  const volume = pod.volumes!.find((v) => v.name === mount?.name)
  assert.match(volume!.configMap!.name, /^gateway-template-/)
  // The entry-point script beside the template turns GATEWAY_TRUSTED_PROXIES into realip lines.
  const script = read('infra/nginx/trusted-proxies.sh')
  assert.equal(named(base.objects, 'ConfigMap', 'gateway-template').data!['trusted-proxies.sh'], script)
  const scriptMount = nginx!.volumeMounts!.find((m) => m.mountPath.startsWith('/docker-entrypoint.d/'))
  assert.equal(scriptMount?.subPath, 'trusted-proxies.sh')
  assert.equal(scriptMount?.name, mount?.name, 'from the same ConfigMap, mode 0555')
  assert.equal(volume!.configMap!.defaultMode, 0o555)
  const scriptVars = [...script.matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]!)
  const placeholders = new Set([
    ...[...template.matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1]!),
    ...scriptVars.filter((v) => v !== 'NGINX_ENVSUBST_OUTPUT_DIR'),
  ])
  // POD_NAMESPACE only builds the upstream names ($(POD_NAMESPACE) in their values).
  const given = new Set(nginx!.env!.map((v) => v.name).filter((n) => n !== 'POD_NAMESPACE'))
  assert.deepEqual([...given].sort(), [...placeholders].sort())
  for (const service of SERVICES) {
    const servers = nginx!.env!.find((v) => v.name === `${service.toUpperCase()}_SERVERS`)!.value!
    assert.match(
      servers,
      new RegExp(`^server ${service}\\.\\$\\(POD_NAMESPACE\\)\\.svc\\.cluster\\.local:300[01] resolve `),
    )
  }
})

/** Does a label selector select these labels? (matchLabels and matchExpressions) */
function selects(selector: Selector | undefined, labels: Labels): boolean {
  if (!selector) return false
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v)
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    if (operator === 'In') return key in labels && values.includes(labels[key]!)
    if (operator === 'NotIn') return !(key in labels) || !values.includes(labels[key]!)
    if (operator === 'Exists') return key in labels
    if (operator === 'DoesNotExist') return !(key in labels)
    throw new Error(`unknown operator ${operator}`)
  })
  return byLabels && byExpressions
}

interface Peer {
  name: string
  namespace: Labels | undefined // undefined: outside the cluster
  labels: Labels
}

/** May `peer` open a TCP connection to `port` of a pod with `labels` in the policies' namespace? */
function admitted(
  policies: K8sObject[],
  labels: Labels,
  ports: Container['ports'],
  port: number,
  peer: Peer,
) {
  const applying = policies
    .map((p) => p.spec as NetworkPolicySpec)
    .filter((s) => (s.policyTypes ?? ['Ingress']).includes('Ingress') && selects(s.podSelector, labels))
  if (applying.length === 0) return true
  const peerMatches = (from: NetworkPolicyPeer) => {
    if (from.ipBlock) return true
    if (!peer.namespace) return false
    const namespaceOk = from.namespaceSelector
      ? selects(from.namespaceSelector, peer.namespace)
      : peer.namespace['kubernetes.io/metadata.name'] === 'authlab'
    return namespaceOk && (from.podSelector ? selects(from.podSelector, peer.labels) : true)
  }
  const portMatches = (p: { port?: number | string; protocol?: string }) =>
    (p.protocol ?? 'TCP') === 'TCP' &&
    (p.port === undefined ||
      p.port === port ||
      ports?.find((cp) => cp.name === p.port)?.containerPort === port)
  return applying.some((s) =>
    (s.ingress ?? []).some(
      (rule) =>
        ((rule.from ?? []).length === 0 || rule.from!.some(peerMatches)) &&
        ((rule.ports ?? []).length === 0 || rule.ports!.some(portMatches)),
    ),
  )
}

test('NetworkPolicies deny ingress by default: the gateway admits only the Ingress controller, Postgres only auth, Redis only auth, orders and profile, the services only the gateway (auth also orders and profile) and Prometheus from its own namespace', {
  skip,
}, () => {
  const policies = ofKind(local.objects, 'NetworkPolicy')
  const denyAll = policies.find((p) => {
    const s = p.spec as NetworkPolicySpec
    return Object.keys(s.podSelector).length === 0 && s.policyTypes?.includes('Ingress') && !s.ingress?.length
  })
  assert.ok(denyAll, 'a default-deny ingress policy selects every pod')
  const here = { 'kubernetes.io/metadata.name': 'authlab' }
  const pods = workloads(local.objects).map(({ object, spec }) => ({
    name: object.metadata.name,
    labels: spec.template.metadata.labels,
    ports: spec.template.spec.containers[0]!.ports,
  }))
  const peers: Peer[] = [
    ...pods.map((p) => ({ name: p.name, namespace: here, labels: p.labels })),
    { name: 'another pod here', namespace: here, labels: { 'app.kubernetes.io/name': 'debug' } },
    { name: 'a pod elsewhere', namespace: { 'kubernetes.io/metadata.name': 'default' }, labels: {} },
    { name: 'outside the cluster', namespace: undefined, labels: {} },
    {
      name: 'prometheus',
      namespace: { 'kubernetes.io/metadata.name': 'monitoring' },
      labels: { 'app.kubernetes.io/name': 'prometheus' },
    },
    {
      name: 'a pod labelled prometheus elsewhere',
      namespace: { 'kubernetes.io/metadata.name': 'default' },
      labels: { 'app.kubernetes.io/name': 'prometheus' },
    },
    {
      name: 'ingress controller',
      namespace: { 'kubernetes.io/metadata.name': 'ingress-nginx' },
      labels: { 'app.kubernetes.io/name': 'ingress-nginx' },
    },
  ]
  const expected: Record<string, string[]> = {
    gateway: ['ingress controller'],
    auth: ['gateway', 'orders', 'profile', 'prometheus'],
    orders: ['gateway', 'prometheus'],
    profile: ['gateway', 'prometheus'],
    redis: ['auth', 'orders', 'profile'],
    postgres: ['auth'],
  }
  for (const pod of pods) {
    const port = pod.ports![0]!.containerPort
    const allowed = peers
      .filter((peer) => admitted(policies, pod.labels, pod.ports, port, peer))
      .map((p) => p.name)
    assert.deepEqual(allowed.sort(), expected[pod.name]!.sort(), `who reaches ${pod.name}:${port}`)
    // No other port is open to anyone.
    const strangers = peers.filter((peer) => admitted(policies, pod.labels, pod.ports, 9999, peer))
    assert.deepEqual(
      strangers.map((p) => p.name),
      [],
      `nobody reaches ${pod.name}:9999`,
    )
  }
})

test('orders and profile each have a PodDisruptionBudget and a CPU HorizontalPodAutoscaler (autoscaling/v2) that owns their replica count', {
  skip,
}, () => {
  for (const service of ['orders', 'profile']) {
    const { object, spec } = workload(base.objects, service)
    assert.equal(object.kind, 'Deployment')
    assert.equal(spec.replicas, undefined, `${service}: the Deployment leaves replicas to the autoscaler`)
    const pdb = ofKind(base.objects, 'PodDisruptionBudget').find((p) =>
      selects((p.spec as { selector: Selector }).selector, spec.template.metadata.labels),
    )
    assert.ok(pdb, `${service}: a PodDisruptionBudget selects its pods`)
    assert.equal(pdb.apiVersion, 'policy/v1')
    const hpa = ofKind(base.objects, 'HorizontalPodAutoscaler').find(
      (h) => (h.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name === service,
    )
    assert.ok(hpa, `${service}: a HorizontalPodAutoscaler targets it`)
    assert.equal(hpa.apiVersion, 'autoscaling/v2')
    const hpaSpec = hpa.spec as {
      scaleTargetRef: { apiVersion: string; kind: string }
      minReplicas: number
      maxReplicas: number
      metrics: { type: string; resource?: { name: string; target: { type: string } } }[]
    }
    assert.deepEqual(
      [hpaSpec.scaleTargetRef.apiVersion, hpaSpec.scaleTargetRef.kind],
      ['apps/v1', 'Deployment'],
    )
    assert.ok(hpaSpec.minReplicas >= 2 && hpaSpec.maxReplicas > hpaSpec.minReplicas)
    assert.ok(
      hpaSpec.metrics.some(
        (m) =>
          m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target.type === 'Utilization',
      ),
    )
  }
})

test('the base holds no Secret and no credential; every Secret of the local overlay holds a marked development value', {
  skip,
}, () => {
  assert.deepEqual(ofKind(base.objects, 'Secret'), [], 'the base only names its Secrets')
  assert.doesNotMatch(base.text, /:\/\/[^\s:/@]+:[^\s@]+@/, 'no URL with a password in the base')
  assert.doesNotMatch(base.text, /dev-only|password=/i, 'no development secret in the base')
  const secrets = ofKind(local.objects, 'Secret')
  assert.ok(secrets.length >= 5)
  for (const secret of secrets) {
    for (const [key, encoded] of Object.entries(secret.data ?? {})) {
      const value = Buffer.from(encoded, 'base64').toString('utf8')
      // The key-encryption key is itself base64 of "dev-only-…".
      const marked =
        value.includes('dev-only') || Buffer.from(value, 'base64').toString('utf8').startsWith('dev-only')
      assert.ok(marked, `${secret.metadata.name}/${key} is marked dev-only`)
    }
  }
})

test("Redis and Postgres run only in the local overlay, as StatefulSets with volume claims, the images compose pins and compose's Redis ACL users", {
  skip,
}, () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, { image: string }>
  }
  const composeImage = (service: string) =>
    compose.services[service]!.image.replace(/^\$\{\w+:-(.*)\}$/, '$1')
  for (const store of ['redis', 'postgres']) {
    assert.ok(
      !workloads(base.objects).some((w) => w.object.metadata.name === store),
      `no ${store} in the base`,
    )
    const { object, spec, pod } = workload(local.objects, store)
    assert.equal(object.kind, 'StatefulSet')
    assert.equal(spec.volumeClaimTemplates?.length, 1, `${store} keeps its data on a volume claim`)
    assert.equal(pod.containers[0]!.image, composeImage(store))
  }
  assert.equal(workload(base.objects, 'gateway').pod.containers[0]!.image, composeImage('nginx'))
  for (const service of SERVICES) {
    assert.equal(workload(base.objects, service).pod.containers[0]!.image, compose.services[service]!.image)
  }
  // The ACL file and start script are compose's own, and every password they need is given.
  const acl = named(local.objects, 'ConfigMap', 'redis-acl').data!
  assert.equal(acl['users.acl'], read('infra/redis/users.acl'))
  assert.equal(acl['start.sh'], read('infra/redis/start.sh'))
  const redis = workload(local.objects, 'redis').pod.containers[0]!
  assert.deepEqual(redis.command, ['sh', '/etc/authlab/start.sh'])
  const env = environment(local.objects, redis)
  for (const [, name] of acl['users.acl']!.matchAll(/\$\{(\w+)\}/g)) {
    assert.match(env.get(name!) ?? '', /^[A-Za-z0-9_-]+$/, `redis gets ${name}`)
  }
  // Each service logs in as its own ACL user with that user's password.
  const users = new Map([
    ['authlab-auth', env.get('REDIS_AUTH_PASSWORD')],
    ['authlab-downstream', env.get('REDIS_DOWNSTREAM_PASSWORD')],
  ])
  for (const service of SERVICES) {
    const url = new URL(
      environment(local.objects, workload(local.objects, service).pod.containers[0]!).get('REDIS_URL')!,
    )
    assert.equal(url.username, service === 'auth' ? 'authlab-auth' : 'authlab-downstream')
    assert.equal(url.password, users.get(url.username))
  }
})
