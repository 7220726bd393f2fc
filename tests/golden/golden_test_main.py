"""Runs this folder's pytest suite under `bazel test` (JUnit XML where Bazel wants it), with tests/ops on the
path for the C ABI wrapper (pmx_ctypes) and the oracle cases."""

import os
import sys

import pytest

if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:0] = [here, os.path.join(here, "..", "ops")]
    arguments = [here, "-q", "-p", "no:cacheprovider"]
    if os.environ.get("XML_OUTPUT_FILE"):
        arguments.append("--junitxml=" + os.environ["XML_OUTPUT_FILE"])
    sys.exit(pytest.main(arguments))
