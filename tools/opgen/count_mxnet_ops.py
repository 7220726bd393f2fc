"""Counts how many of MXNet 1.9.1's operator names the registry provides (by name or alias).

Usage: bazel run //tools/opgen:dump_schema -- --dump-schema > schema.json
       python3 tools/opgen/count_mxnet_ops.py schema.json ../shared/reference/mxnet-1.9.1-operator-names.txt
Prints the figure for non-backward names, then the covered and missing names with --verbose.
"""

import json
import sys


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    schema = json.load(open(sys.argv[1]))
    provided = set()
    for op in schema["operators"]:
        provided.add(op["name"])
        provided.update(op["aliases"])
    reference = [line.strip() for line in open(sys.argv[2]) if line.strip()]
    targets = [name for name in reference if not name.startswith("_backward")]
    covered = sorted(name for name in targets if name in provided)
    print(f"{len(covered)} of {len(targets)} MXNet 1.9.1 non-backward operator names registered "
          f"({len(schema['operators'])} Polymix operators, {len(provided)} names with aliases)")
    if "--verbose" in sys.argv:
        print("covered:", " ".join(covered))
        print("missing:", " ".join(sorted(set(targets) - set(covered))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
