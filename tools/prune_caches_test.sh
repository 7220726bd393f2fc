#!/usr/bin/env bash
# tools/prune_caches: removes the output base of a deleted workspace and keeps a live one, leaves the disk cache
# alone under its limit, trims it over the limit, and rejects a malformed limit.
set -euo pipefail

script="$(dirname "$0")/prune_caches"
home="$TEST_TMPDIR/home"
bases="$home/.cache/bazel/_bazel_$(id -un)"
cache="$home/.cache/polymix/bazel-disk-cache/ac"
fail() { echo "FAILED: $*" >&2; exit 1; }

mkdir -p "$bases/gone" "$bases/live" "$TEST_TMPDIR/workspace" "$cache"
printf '%s' "$TEST_TMPDIR/deleted-workspace" > "$bases/gone/DO_NOT_BUILD_HERE"
printf '%s' "$TEST_TMPDIR/workspace" > "$bases/live/DO_NOT_BUILD_HERE"
head -c 100000 /dev/urandom > "$cache/entry"

output="$(HOME="$home" POLYMIX_HOME="$home/.cache/polymix" bash "$script")"
[ ! -e "$bases/gone" ] || fail "the output base of a deleted workspace is still there"
[ -e "$bases/live" ] || fail "the output base of a live workspace was removed"
[ -e "$cache/entry" ] || fail "the disk cache was trimmed under its limit"
grep -q "deleted-workspace (gone)" <<<"$output" || fail "no line for the removed output base: $output"

output="$(HOME="$home" POLYMIX_HOME="$home/.cache/polymix" POLYMIX_DISK_CACHE_MAX_GB=0 bash "$script")"
[ ! -e "$cache/entry" ] || fail "the disk cache was not trimmed over its limit"
grep -q "trimmed the disk cache" <<<"$output" || fail "no line for the trimmed cache: $output"

if HOME="$home" POLYMIX_DISK_CACHE_MAX_GB=lots bash "$script" 2>/dev/null; then
  fail "a malformed POLYMIX_DISK_CACHE_MAX_GB was accepted"
fi
echo "prune_caches_test: ok"
