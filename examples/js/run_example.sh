#!/usr/bin/env bash
# Runs a Node.js example against the INSTALLED polymix package, as a user would: installs the tarball that
# //bindings/js:package builds into a temporary folder (offline; nothing to download) and runs
# `node <example> [args...]` with that folder's node_modules on NODE_PATH.
#
#   bazel run //examples/js:train_fashion_mnist -- --epochs 5      (or bazel test ..._test: the --smoke run)
#   examples/js/run_example.sh EXAMPLE.js TARBALL [args...]        (outside Bazel)
set -euo pipefail

if [ -n "${TEST_SRCDIR:-}" ]; then
  runfiles="$TEST_SRCDIR/${TEST_WORKSPACE:-polymix}"
elif [ -n "${RUNFILES_DIR:-}" ]; then
  runfiles="$RUNFILES_DIR/polymix"
elif [ -d "$0.runfiles/polymix" ]; then
  runfiles="$0.runfiles/polymix"
else
  runfiles=""
fi
if [ -n "$runfiles" ]; then
  example="$runfiles/examples/js/$1"
  tarball="$runfiles/bindings/js/polymix.tgz"
  shift
else
  [ $# -ge 2 ] || { echo "usage: $0 EXAMPLE.js TARBALL [args...]"; exit 2; }
  example="$1"
  tarball="$2"
  shift 2
fi
command -v node > /dev/null && command -v npm > /dev/null || { echo "node and npm are needed (tools/setup)"; exit 1; }

work="$(mktemp -d "${TEST_TMPDIR:-${TMPDIR:-/tmp}}/polymix-example.XXXXXX")"
trap 'rm -rf "$work"' EXIT
printf '{"name": "polymix-example", "version": "0.0.0", "private": true}\n' > "$work/package.json"
(cd "$work" && npm_config_cache="$work/.npm-cache" npm_config_update_notifier=false \
  npm install --offline --no-audit --no-fund --ignore-scripts --loglevel=error "$(readlink -f "$tarball")" > /dev/null)
# Outside the sandbox, exports land in the system's temp folder unless --out says otherwise.
env -u LD_LIBRARY_PATH NODE_PATH="$work/node_modules" node "$(readlink -f "$example")" "$@"
