#!/usr/bin/env bash
# The two commands of the README:
#   bash scripts/run.sh demo   set up, start a native cluster, run the quick bench, print the table
#   bash scripts/run.sh test   set up, then typecheck, lint and every test (with Docker: compose too)
#   bash scripts/run.sh setup  only set up (Node 24 and pnpm into .tools/, the servers from apt)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
case "${1:-}" in
  setup)
    say "done: put the project's Node first with  export PATH=\"$root/.tools/node/bin:\$PATH\""
    ;;
  demo)
    shift
    exec pnpm demo "$@"
    ;;
  test)
    shift
    pnpm test "$@"
    # The containerised path: a Docker engine and the base images. Our machines reach no image
    # registry, so ../shared provides stand-ins built from Debian packages (see its README).
    standins="$root/../shared/docker-standins/build.sh"
    if [ -f "$standins" ]; then
      say "starting Docker and building the stand-in base images (about 5 min on a new machine)"
      eval "$(bash "$standins")"
    fi
    if docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
      pnpm test:containers
      pnpm test:compose
    else
      say "no Docker engine: the compose and testcontainers tests did not run (CI runs them)"
    fi
    ;;
  *)
    echo "usage: bash scripts/run.sh setup|demo|test" >&2
    exit 2
    ;;
esac
