"""Runs one pytest file under `bazel test` (the path is the first argument), writing JUnit XML where Bazel
wants it."""

import os
import sys

import pytest

if __name__ == "__main__":
    arguments = [sys.argv[1], "-q", "-p", "no:cacheprovider"] + sys.argv[2:]
    if os.environ.get("XML_OUTPUT_FILE"):
        arguments.append("--junitxml=" + os.environ["XML_OUTPUT_FILE"])
    sys.exit(pytest.main(arguments))
