#!/usr/bin/env bash
# Runs two builds' digest_probe and fails unless they print the same
# schedules, byte for byte: determinism across compilers, optimisation
# levels and sanitizers. Usage: cross_build_digests.sh PROBE_A PROBE_B
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 PROBE_A PROBE_B" >&2
  exit 2
fi
a=$(mktemp) b=$(mktemp)
trap 'rm -f "$a" "$b"' EXIT
"$1" >"$a"
"$2" >"$b"
lines=$(wc -l <"$a")
if [ "$lines" -lt 100 ]; then
  echo "cross-build digests: $1 printed only $lines schedules" >&2
  exit 1
fi
if ! cmp -s "$a" "$b"; then
  echo "cross-build digests differ between $1 and $2:" >&2
  diff "$a" "$b" | head -20 >&2
  exit 1
fi
failing=$(grep -vc ' pass$' "$a" || true)
echo "cross-build digests: $lines schedules ($failing failing) identical in $1 and $2"
