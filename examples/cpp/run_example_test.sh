#!/usr/bin/env bash
# Runs an example binary and fails unless it exits 0.
set -euo pipefail
"$1"
