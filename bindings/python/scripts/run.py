"""Runs a Python script (or an interactive interpreter) with the built polymix package importable:
`bazel run //bindings/python:python -- path/to/script.py [args]`."""

import code
import os
import runpy
import sys

if __name__ == "__main__":
    if len(sys.argv) < 2:
        code.interact(banner="polymix: import polymix as mx", local={})
    else:
        script = sys.argv[1]
        if not os.path.isabs(script) and "BUILD_WORKING_DIRECTORY" in os.environ:
            script = os.path.join(os.environ["BUILD_WORKING_DIRECTORY"], script)
        sys.argv = [script] + sys.argv[2:]
        runpy.run_path(script, run_name="__main__")
