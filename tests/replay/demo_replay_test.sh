#!/usr/bin/env bash
# README command 1's promise: `weft demo` finds the bug and prints the
# commands that replay it. Runs the demo, then the printed WEFT_REPLAY
# command (the shrunk trace must fail the same way) and the printed seed
# command (the same schedule digest).
set -euo pipefail
weft="$1"
for demo in lost-update abba-deadlock; do
  out=$("$weft" demo "$demo" 2>&1)
  echo "$out"
  what=$(echo "$out" | grep -o '^weft: [a-z ]* after' | head -1 | sed 's/ after$//')
  bytrace=$(echo "$out" | grep -A1 '^replay it with:' | tail -1 | sed 's/^ *//')
  byseed=$(echo "$out" | grep -A1 '^or by seed:' | tail -1 | sed 's/^ *//')
  digest=$(echo "$out" | grep -o 'digest 0x[0-9a-f]*' | head -1)
  [ -n "$what" ] || { echo "FAIL: $demo reported no failure"; exit 1; }
  [ -n "$digest" ] || { echo "FAIL: $demo printed no digest"; exit 1; }
  case "$bytrace" in
    WEFT_REPLAY=*) ;;
    *) echo "FAIL: $demo printed no WEFT_REPLAY command"; exit 1 ;;
  esac
  # The shrunk trace fails the same way on its first schedule.
  again=$(env -i PATH="$PATH" bash -c "$bytrace" 2>&1 || true)
  echo "$again"
  echo "$again" | grep -q "^$what after 1 schedule " ||
    { echo "FAIL: the trace replay of $demo did not fail the same way"; exit 1; }
  # The seed replays exactly the schedule first found.
  again=$(env -i PATH="$PATH" bash -c "$byseed" 2>&1 || true)
  echo "$again"
  echo "$again" | grep -q "after 1 schedule " ||
    { echo "FAIL: replay of $demo did not fail on its first schedule"; exit 1; }
  echo "$again" | grep -q "$digest" ||
    { echo "FAIL: replay of $demo gave another schedule (want $digest)"; exit 1; }
done
echo "both demos replayed from their trace files and from their seeds"
