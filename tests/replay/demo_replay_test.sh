#!/usr/bin/env bash
# README command 1's promise: `weft demo` finds the bug and prints a command
# that replays exactly that schedule. Runs the demo, runs the printed
# command, and checks that the replay fails the same way with the same
# schedule digest.
set -euo pipefail
weft="$1"
for demo in lost-update abba-deadlock; do
  out=$("$weft" demo "$demo" 2>&1)
  echo "$out"
  cmd=$(echo "$out" | grep -A1 '^replay it with:' | tail -1 | sed 's/^ *//')
  digest=$(echo "$out" | grep -o 'digest 0x[0-9a-f]*' | head -1)
  [ -n "$cmd" ] || { echo "FAIL: $demo printed no replay command"; exit 1; }
  [ -n "$digest" ] || { echo "FAIL: $demo printed no digest"; exit 1; }
  again=$(env -i PATH="$PATH" bash -c "$cmd" 2>&1 || true)
  echo "$again"
  echo "$again" | grep -q "after 1 schedule " ||
    { echo "FAIL: replay of $demo did not fail on its first schedule"; exit 1; }
  echo "$again" | grep -q "$digest" ||
    { echo "FAIL: replay of $demo gave another schedule (want $digest)"; exit 1; }
done
echo "both demos replayed with identical digests"
