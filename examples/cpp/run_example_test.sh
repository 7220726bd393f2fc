#!/usr/bin/env bash
# Runs an example binary (with any further arguments) and fails unless it exits 0.
set -euo pipefail
"$@"
