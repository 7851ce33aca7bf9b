#!/usr/bin/env bash
# The unseed check over the component tests: runs runtime_test's simulated
# tests with WEFT_CHECK_DETERMINISM=all (every schedule twice, digests
# compared) and WEFT_VERBOSE=1, then adds up the schedules their pass lines
# report. Fails on any test failure (a mismatch fails its test) or if fewer
# than the minimum schedules ran.
#   unseed_check.sh <runtime_test> <gtest filter> <minimum schedules>
set -uo pipefail
binary=$1 filter=$2 minimum=$3
out=$(WEFT_CHECK_DETERMINISM=all WEFT_VERBOSE=1 "$binary" \
        --gtest_filter="$filter" --gtest_brief=1 2>&1)
status=$?
total=$(grep -oE '^weft: [0-9]+ schedules? passed' <<<"$out" |
        awk '{ n += $2 } END { print n + 0 }')
if [ $status -ne 0 ]; then
  echo "$out"
  echo "unseed check: runtime_test failed (status $status)"
  exit 1
fi
echo "unseed check: $total schedules, each run twice, zero mismatches"
if [ "$total" -lt "$minimum" ]; then
  echo "unseed check: expected at least $minimum schedules"
  exit 1
fi
