"""Fixtures of the MXNet compatibility suite: the real MXNet 1.9.1 (from PyPI, in its own virtualenv made by
tools/setup), libpolymix.so (POLYMIX_LIBRARY, set by tools/test_all) and run_polymix, which runs a script under
the Polymix Python package (the suite itself runs in MXNet's virtualenv, where polymix is not installed)."""
import os
import subprocess

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
