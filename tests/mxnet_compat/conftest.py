"""Fixtures of the MXNet compatibility suite: the real MXNet 1.9.1 (from PyPI, in its own virtualenv made by
tools/setup), libpolymix.so (POLYMIX_LIBRARY, set by tools/test_all) and run_polymix, which runs a script under
the Polymix Python package (the suite itself runs in MXNet's virtualenv, where polymix is not installed)."""
import json
import os
import re
import subprocess
import sys

import pytest

from polymix_symbol import Library


@pytest.fixture(scope="session")
def mx():
    import mxnet
    assert mxnet.__version__ == "1.9.1", "expected MXNet 1.9.1, found %s" % mxnet.__version__
    return mxnet


@pytest.fixture(scope="session")
def pmx():
    path = os.environ.get("POLYMIX_LIBRARY")
    assert path and os.path.exists(path), "set POLYMIX_LIBRARY to a built libpolymix.so (tools/test_all does)"
    return Library(path)


def polymix_pythonpath():
    """The folder holding the built polymix package: POLYMIX_PYTHONPATH, or the runfiles of
    `bazel build //bindings/python:python` in the bazel-bin that holds POLYMIX_LIBRARY."""
    path = os.environ.get("POLYMIX_PYTHONPATH")
    if not path:
        library = os.environ.get("POLYMIX_LIBRARY")
        assert library, "set POLYMIX_LIBRARY (tools/test_all does) or POLYMIX_PYTHONPATH to the polymix package's folder"
        bazel_bin = os.path.dirname(os.path.dirname(os.path.dirname(library)))
        path = os.path.join(bazel_bin, "bindings", "python", "python.runfiles", "polymix", "bindings", "python")
    assert os.path.exists(os.path.join(path, "polymix", "_core.so")), \
        "no built polymix package in %s (bazel build //bindings/python:python)" % path
    return path


@pytest.fixture(scope="session")
def run_polymix():
    """run_polymix(script, *args, timeout=300): runs `script` with the project's interpreter and polymix
    importable; returns the finished process (stdout/stderr as text) after asserting it exited 0."""
    interpreter = os.path.join(os.environ.get("POLYMIX_HOME", os.path.expanduser("~/.cache/polymix")), "venv", "bin",
                               "python")
    env = dict(os.environ, PYTHONPATH=polymix_pythonpath())

    def run(script, *args, timeout=300):
        proc = subprocess.run([interpreter, str(script)] + [str(a) for a in args], capture_output=True, text=True,
                              timeout=timeout, env=env)
        assert proc.returncode == 0, "%s failed (exit %d):\n%s%s" % (script, proc.returncode, proc.stdout,
                                                                     proc.stderr)
        return proc

    return run


def _result_of(stdout, who):
    """The JSON of the one `RESULT {...}` line a script printed."""
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1, "%s: expected one RESULT line, got:\n%s" % (who, stdout)
    return json.loads(lines[0][len("RESULT "):])


@pytest.fixture
def run_script_both_ways(tmp_path, run_polymix):
    """run_script_both_ways(script, import_lines): runs `script` (written for MXNet, printing one `RESULT <json>`
    line, taking a work folder argument) under MXNet 1.9.1 as written, then under Polymix with its `import mxnet`
    / `from mxnet...` lines, of which there must be `import_lines`, turned into polymix ones and nothing else
    changed; returns (MXNet's result, Polymix's result)."""

    def run(script, import_lines):
        source = open(script).read()
        ported, replaced = re.subn(r"^(import |from )mxnet\b", r"\1polymix", source, flags=re.M)
        assert replaced == import_lines and "mxnet" not in re.sub(r'""".*?"""', "", ported, flags=re.S)
        ported_script = tmp_path / ("polymix_" + os.path.basename(script))
        ported_script.write_text(ported)
        (tmp_path / "mxnet").mkdir()
        reference = subprocess.run([sys.executable, str(script), str(tmp_path / "mxnet")], capture_output=True,
                                   text=True, timeout=300)
        assert reference.returncode == 0, reference.stdout + reference.stderr
        theirs = _result_of(reference.stdout, "MXNet 1.9.1")
        (tmp_path / "polymix").mkdir()
        ours = _result_of(run_polymix(ported_script, tmp_path / "polymix").stdout, "Polymix")
        return theirs, ours

    return run
