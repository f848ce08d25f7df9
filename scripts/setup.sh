# shellcheck shell=bash
# Sourced by scripts/run.sh and .ci/run: installs what authlab needs, skipping what is present.
# Node 24 and pnpm go into .tools/ (nothing global); redis-server, postgresql, nginx and prometheus
# come from apt when missing. Leaves PATH pointing at the project's Node.
set -euo pipefail

NODE_VERSION=24.21.0
PNPM_VERSION=10.34.9
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$root/.tools/node"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

export PATH="$tools/bin:$PATH"
if [ "$(node_major)" -lt 24 ]; then
  # The official Node binary, from the npm registry: works wherever npm does.
  say "installing Node $NODE_VERSION into .tools/"
  npm install --silent -g --prefix "$tools" "node@$NODE_VERSION" >/dev/null
fi
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  say "installing pnpm $PNPM_VERSION into .tools/"
  npm install --silent -g --prefix "$tools" "pnpm@$PNPM_VERSION" >/dev/null
fi

# vegeta (MIT) for open-model latency in the bench; k6 is never installed (AGPL; see README).
VEGETA_VERSION=v12.13.0
# Go's official tarball installs to /usr/local/go, which is not always on PATH.
go_bin=$(command -v go || { [ -x /usr/local/go/bin/go ] && echo /usr/local/go/bin/go; } || true)
if [ ! -x "$root/.tools/bin/vegeta" ] && [ -n "$go_bin" ]; then
  say "installing vegeta $VEGETA_VERSION into .tools/bin (go install)"
  GOBIN="$root/.tools/bin" GOFLAGS=-mod=mod "$go_bin" install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
fi
# The bench's network-delay relay (standard library only; loadtest/relay).
if [ -n "$go_bin" ] && [ ! "$root/.tools/bin/delay-relay" -nt "$root/loadtest/relay/main.go" ]; then
  say "building the bench's delay relay into .tools/bin"
  (cd "$root/loadtest/relay" && GOFLAGS=-mod=mod "$go_bin" build -o "$root/.tools/bin/delay-relay" .)
fi
# The Kubernetes manifests' check (infra/k8s, infra/test/k8s.test.ts): kustomize renders them and
# kubeconform validates them strictly against JSON schemas made here from the Kubernetes OpenAPI
# document, which the Go module proxy serves inside k8s.io/kubernetes (a 19 MB zip; kubeconform's
# default schemas are on GitHub). Each is redone only when its pinned version or the converter changes.
KUSTOMIZE_VERSION=v5.8.1
KUBECONFORM_VERSION=v0.7.0
K8S_SCHEMA_VERSION=v1.35.4
go_tool() { # binary, package, version: go install unless .tools/bin holds that version
  if ! "$go_bin" version -m "$root/.tools/bin/$1" 2>/dev/null | grep -q "mod.*[[:space:]]$3[[:space:]]"; then
    say "installing $1 $3 into .tools/bin (go install)"
    GOBIN="$root/.tools/bin" GOFLAGS=-mod=mod "$go_bin" install "$2@$3"
  fi
}
if [ -n "$go_bin" ]; then
  go_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"
  go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
  k8s_schemas="$root/.tools/k8s-schemas/$K8S_SCHEMA_VERSION-standalone-strict"
  if [ ! "$k8s_schemas" -nt "$root/infra/k8s/validate/openapi2jsonschema.ts" ]; then
    say "making the Kubernetes $K8S_SCHEMA_VERSION JSON schemas into .tools/k8s-schemas"
    k8s_mod=$(mktemp -d)
    k8s_dir=$(GOMODCACHE="$k8s_mod" GOFLAGS=-modcacherw "$go_bin" mod download -json "k8s.io/kubernetes@$K8S_SCHEMA_VERSION" |
      node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).Dir)')
    node "$root/infra/k8s/validate/openapi2jsonschema.ts" "$k8s_dir/api/openapi-spec/swagger.json" \
      "$root/.tools/k8s-schemas" "$K8S_SCHEMA_VERSION" >/dev/null
    rm -rf "$k8s_mod"
  fi
fi

# Each entry: the apt package and the system service it starts (Debian starts what it installs).
missing=()
command -v redis-server >/dev/null || missing+=(redis-server:redis-server)
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || command -v postgres >/dev/null || missing+=(postgresql:postgresql)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light:nginx)
# Prometheus for `pnpm cluster --prometheus` and the scrape test.
command -v prometheus >/dev/null || missing+=(prometheus:prometheus)
# jq for the README's "Try it" block; chromium for the browser demo's test. They start nothing.
command -v jq >/dev/null || missing+=(jq:)
command -v chromium >/dev/null || missing+=(chromium:)
# libfaketime runs a replica with its clock offset (the clock-skew tests and fault kind).
compgen -G '/usr/lib/*/faketime/libfaketime.so.1' >/dev/null || missing+=(libfaketime:)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  packages=("${missing[@]%%:*}")
  say "installing ${packages[*]} with apt-get"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  # authlab runs its own servers on free ports. Stop the system-wide ones the packages just
  # started and keep them from starting at boot (Debian's prometheus would listen on every
  # interface), and only those: a Redis, Postgres or nginx that was already installed is left alone.
  for entry in "${missing[@]}"; do
    svc="${entry##*:}"
    [ -n "$svc" ] || continue
    $sudo service "$svc" stop >/dev/null 2>&1 || true
    $sudo systemctl disable "$svc" >/dev/null 2>&1 || $sudo update-rc.d "$svc" disable >/dev/null 2>&1 || true
  done
fi

cd "$root"
pnpm install --frozen-lockfile --reporter=silent
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
say "ready: node $(node --version), pnpm $(pnpm --version), redis $(redis-server --version | sed -E 's/.* v=([^ ]+).*/\1/'), nginx $("$nginx_bin" -v 2>&1 | cut -d/ -f2)"
