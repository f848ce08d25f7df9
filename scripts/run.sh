#!/usr/bin/env bash
# The two commands of the README:
#   bash scripts/run.sh demo   set everything up, start the cluster, print its URL
#   bash scripts/run.sh test   set everything up, run typecheck, lint and every test
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
case "${1:-}" in
  demo) shift; exec pnpm demo "$@" ;;
  test) shift; exec pnpm test "$@" ;;
  *) echo "usage: bash scripts/run.sh demo|test" >&2; exit 2 ;;
esac
