#!/usr/bin/env bash
# The weft command's conventions: `weft` alone lists its commands, --version
# names the version, and usage errors exit 2 (never CLI11's own codes).
# Usage: cli_conventions_test.sh WEFT
set -uo pipefail
weft=$1
fail=0
expect() {  # expect STATUS PATTERN ARGS...: status and a line of output
  local want=$1 pattern=$2
  shift 2
  local out status
  out=$("$weft" "$@" 2>&1)
  status=$?
  if [ "$status" -ne "$want" ] || ! grep -q -- "$pattern" <<<"$out"; then
    echo "FAIL: weft $* exited $status (want $want), output:" >&2
    echo "$out" >&2
    fail=1
  else
    echo "ok: weft $* -> $status"
  fi
}
expect 0 '^Subcommands:'
expect 0 '^  trace '
expect 0 '^weft [0-9]\+\.[0-9]\+\.[0-9]\+$' --version
expect 0 'Exit status: 0 done' --help
expect 2 'not expected: bogus' bogus
expect 2 'A subcommand is required' trace
expect 2 'not expected' trace show a b c
exit $fail
