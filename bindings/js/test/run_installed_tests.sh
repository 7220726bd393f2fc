#!/usr/bin/env bash
# Runs the node:test suite against the INSTALLED npm tarball, as a user would get it:
#   1. `npm install <tarball>` (offline: the tarball has no dependencies) into a fresh temporary folder;
#   2. copies test/*.js there and runs `node --test` with no LD_LIBRARY_PATH, so the addon must find its
#      libraries by itself;
#   3. writes JUnit XML ($XML_OUTPUT_FILE under Bazel, which CI sums) and prints "N passed, N failed".
#
#   bazel test //bindings/js:installed_package_test
#   bindings/js/test/run_installed_tests.sh [TARBALL] [CORPUS]    (outside Bazel; set POLYMIX_CPP_TRAINER to a
#                                                                  built examples/cpp/train_fashion_mnist for the
#                                                                  cross-language check)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -n "${TEST_SRCDIR:-}" ]; then
  runfiles="$TEST_SRCDIR/${TEST_WORKSPACE:-polymix}"
  tarball="${1:-$runfiles/bindings/js/polymix.tgz}"
  corpus="${2:-$runfiles/tests/golden/corpus.json}"
  tests="$runfiles/bindings/js/test"  # Bazel runs a copy of this script named after the target.
  # The C++ main job for test/model.test.js's cross-language check (skipped where it is absent).
  trainer="$runfiles/examples/cpp/train_fashion_mnist"
  if [ -x "$trainer" ]; then export POLYMIX_CPP_TRAINER="$(readlink -f "$trainer")"; fi
else
  repo="$(cd "$here/../../.." && pwd)"
  tarball="${1:-$(cd "$repo" && bazel info bazel-bin 2>/dev/null)/bindings/js/polymix.tgz}"
  corpus="${2:-$repo/tests/golden/corpus.json}"
  tests="$here"
fi
for tool in node npm; do
  command -v "$tool" > /dev/null || { echo "$tool not found: install Node.js 18 or later (tools/setup)"; \
                                      echo "0 passed, 1 failed"; exit 1; }
done
[ -f "$tarball" ] || { echo "no tarball at $tarball: bazel build //bindings/js:package"; exit 1; }

work="$(mktemp -d "${TEST_TMPDIR:-/tmp}/polymix-js.XXXXXX")"
[ -n "${TEST_TMPDIR:-}" ] || trap 'rm -rf "$work"' EXIT
xml="${XML_OUTPUT_FILE:-$work/junit.xml}"

cd "$work"
printf '{"name": "polymix-installed-test", "version": "0.0.0", "private": true}\n' > package.json
export npm_config_cache="$work/.npm-cache" npm_config_update_notifier=false
npm install --offline --no-audit --no-fund --ignore-scripts --loglevel=error "$(readlink -f "$tarball")"
mkdir test
cp "$tests"/*.js test/

# JUnit XML needs Node 20.11 or later (Debian 12's own nodejs is 18): older ones count from TAP instead.
if node -e 'const [major, minor] = process.versions.node.split(".").map(Number);
            process.exit(major > 20 || (major === 20 && minor >= 11) ? 0 : 1)'; then
  report=(--test-reporter=junit --test-reporter-destination="$xml")
else
  report=(--test-reporter=tap --test-reporter-destination="$work/report.tap")
  xml=""
fi

# Under bazel test: a model exported by the Python package (python_export.test.js loads it).
python_export=""
if [ -n "${TEST_SRCDIR:-}" ] && [ -x "$runfiles/bindings/python/python" ]; then
  python_export="$work/python-export"
  mkdir -p "$python_export"
  "$runfiles/bindings/python/python" "$tests/export_gluon_model.py" "$python_export" \
    || { echo "exporting a Gluon model with the Python package failed"; echo "0 passed, 1 failed"; exit 1; }
fi

status=0
env -u LD_LIBRARY_PATH POLYMIX_GOLDEN_CORPUS="$(readlink -f "$corpus")" POLYMIX_PYTHON_EXPORT="$python_export" \
  node --test --test-reporter=spec --test-reporter-destination=stdout "${report[@]}" test/*.test.js || status=$?

# The counts CI reads, alone on the last line (node:test's own summary is not in that form).
node -e '
const fs = require("fs");
const [xml, tap] = process.argv.slice(1);
let passed, failed, skipped;
if (xml) {
  const cases = fs.readFileSync(xml, "utf8").match(/<testcase\b[\s\S]*?(?:\/>|<\/testcase>)/g) || [];
  skipped = cases.filter((c) => /<skipped\b/.test(c)).length;
  failed = cases.filter((c) => /<failure\b|<error\b/.test(c)).length;
  passed = cases.length - failed - skipped;
} else {
  const text = fs.readFileSync(tap, "utf8");
  const count = (key) => Number((new RegExp(`^# ${key} (\\d+)$`, "m").exec(text) || [0, 0])[1]);
  [passed, failed, skipped] = [count("pass"), count("fail") + count("cancelled"), count("skipped")];
}
if (skipped) console.log(`${skipped} skipped`);
console.log(`${passed} passed, ${failed} failed`);
' "$xml" "$work/report.tap" || { echo "0 passed, 1 failed"; status=1; }
exit "$status"
