#!/usr/bin/env bash
# Runs tests/python's pytest files against the INSTALLED wheel, as a user would get it:
#   1. a fresh virtualenv from the project venv's interpreter (python -m venv --without-pip);
#   2. NumPy, pytest and pip for it WITHOUT network: a .pth file in its site-packages adds the project venv's
#      site-packages after its own (so the fresh venv's own polymix always comes first; the project venv has no
#      polymix); this is the "NumPy comes from elsewhere" case, the wheel itself is installed for real;
#   3. `pip install --no-index --no-deps` the wheel into it;
#   4. copies the test files to a scratch folder (never the source tree) and checks that `import polymix` there
#      is the fresh venv's copy, then runs pytest with no LD_LIBRARY_PATH, so _core.so must find its libraries
#      by itself (RPATH $ORIGIN); writes JUnit XML ($XML_OUTPUT_FILE under Bazel, which CI sums).
#
#   bazel test //bindings/python:installed_wheel_test
#   bindings/python/test/run_installed_wheel_tests.sh [WHEEL]    (outside Bazel, from a built wheel)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -n "${TEST_SRCDIR:-}" ]; then
  root="$TEST_SRCDIR/${TEST_WORKSPACE:-polymix}"
  wheel="${1:-$(ls "$root"/bindings/python/polymix-*.whl)}"
else
  root="$(cd "$here/../../.." && pwd)"
  wheel="${1:-$(ls "$(cd "$root" && bazel info bazel-bin 2>/dev/null)"/bindings/python/polymix-*.whl)}"
fi
# The project venv's interpreter: under Bazel, the @python_venv toolchain's, as //bindings/python:python (a
# py_binary on that toolchain) reports it; outside Bazel, tools/setup's venv.
if [ -n "${TEST_SRCDIR:-}" ]; then
  printf 'import sys\nprint(sys.executable)\n' > "$TEST_TMPDIR/executable.py"
  python="$("$root/bindings/python/python" "$TEST_TMPDIR/executable.py")"
else
  python="${POLYMIX_HOME:-$HOME/.cache/polymix}/venv/bin/python3"
fi
[ -x "$python" ] || { echo "no project venv interpreter at $python: run tools/setup"; echo "0 passed, 1 failed"; exit 1; }
[ -f "$wheel" ] || { echo "no wheel at $wheel: bazel build //bindings/python:wheel"; echo "0 passed, 1 failed"; exit 1; }

work="$(mktemp -d "${TEST_TMPDIR:-/tmp}/polymix-wheel.XXXXXX")"
[ -n "${TEST_TMPDIR:-}" ] || trap 'rm -rf "$work"' EXIT
xml="${XML_OUTPUT_FILE:-$work/junit.xml}"

"$python" -m venv --without-pip "$work/venv"
venv_python="$work/venv/bin/python"
project_site="$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
fresh_site="$("$venv_python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$project_site" > "$fresh_site/polymix-test-project-venv.pth"

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_CACHE_DIR="$work/pip-cache"
"$venv_python" -m pip install --quiet --no-index --no-deps "$(readlink -f "$wheel")"

# The test tree as tests/python's files expect it (tests/python, tests/ops/cases, tests/golden), nothing else.
mkdir -p "$work/tests"
for folder in tests/python tests/ops/cases tests/golden; do
  mkdir -p "$work/$folder"
  cp -L "$root/$folder"/* "$work/$folder/" 2>/dev/null || true
done
cp -rL "$root/tests/python/testdata" "$work/tests/python/"

cd "$work/tests/python"
env -u LD_LIBRARY_PATH -u PYTHONPATH "$venv_python" -c '
import os, sys
import polymix
where = os.path.realpath(polymix.__file__)
expected = os.path.realpath(sys.argv[1])
assert where.startswith(expected + os.sep), "import polymix gave %s, not the fresh venv (%s)" % (where, expected)
# The packed libraries, not the system ones, are those loaded (RPATH $ORIGIN), so a machine without them works.
with open("/proc/self/maps") as maps:
    loaded = {os.path.basename(line.split()[-1]): line.split()[-1] for line in maps if ".so" in line}
packed = [name for name in os.listdir(os.path.dirname(where)) if name.startswith("lib") and ".so" in name]
assert "libdnnl.so.2" in packed and "libgomp.so.1" in packed, "the wheel packs only %s" % packed
for library in packed:
    if library in loaded or library in ("libdnnl.so.2", "libgomp.so.1"):
        assert os.path.dirname(loaded.get(library, "")) == os.path.dirname(where), \
            "%s was loaded from %s, not beside _core.so" % (library, loaded.get(library, "nowhere"))
print("polymix %s from %s, with its libraries beside it" % (polymix.__version__, os.path.dirname(where)))
' "$fresh_site" || { echo "0 passed, 1 failed"; exit 1; }

status=0
env -u LD_LIBRARY_PATH -u PYTHONPATH "$venv_python" -m pytest -q -p no:cacheprovider --rootdir="$work/tests" \
  --junitxml="$xml" test_*.py || status=$?

# The counts CI reads, alone on the last line.
"$venv_python" - "$xml" <<'EOF' || { echo "0 passed, 1 failed"; status=1; }
import sys
import xml.etree.ElementTree as ElementTree
cases = list(ElementTree.parse(sys.argv[1]).getroot().iter("testcase"))
skipped = sum(1 for case in cases if case.find("skipped") is not None)
failed = sum(1 for case in cases if case.find("failure") is not None or case.find("error") is not None)
if skipped:
    print("%d skipped" % skipped)
print("%d passed, %d failed" % (len(cases) - failed - skipped, failed))
EOF
exit "$status"
