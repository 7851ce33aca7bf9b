#!/usr/bin/env bash
# The weft command's adoption conventions, each error path with its message
# and exit status: `weft replay FILE` runs the command a schedule trace
# names (and refuses other files, exit 2); `weft trace export` refuses an
# allocator log; `weft alloc replay|compare` take a calls log directly,
# converting it on the way; `weft alloc import` knows a compressed mtrace
# log by its content.
# Usage: adoption_cli_test.sh WEFT
set -uo pipefail
weft=$1
dir=$PWD/adoption-cli
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 1
export TMPDIR=$dir/tmp  # where alloc replay converts; must end empty
mkdir -p "$TMPDIR"
for v in $(env | sed -n 's/^\(WEFT_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
fail=0
expect() {  # expect STATUS PATTERN CMD...: the status and a line of output
  local want=$1 pattern=$2
  shift 2
  local out status
  out=$("$@" 2>&1)
  status=$?
  if [ "$status" -ne "$want" ] || ! grep -q -- "$pattern" <<<"$out"; then
    echo "FAIL: $* exited $status (want $want, and a line matching '$pattern'):" >&2
    echo "$out" | head -30 >&2
    fail=1
  else
    echo "ok: $* -> $status: $(grep -m1 -- "$pattern" <<<"$out")"
  fi
}

"$weft" demo lost-update >demo.log 2>&1 || { echo "FAIL: the demo"; exit 1; }
# The trace the demo names in its report (its seed follows the default).
trace=$(grep -o 'weft-traces/demo-lost-update-seed[0-9]*\.weft' demo.log | head -1)
digest=$(grep -o 'digest 0x[0-9a-f]*' demo.log | head -1)
[ -f "$trace" ] && [ -n "$digest" ] || { echo "FAIL: no trace"; cat demo.log; exit 1; }

echo "== weft replay"
expect 0 "assertion failed after 1 schedule (strategy replay" "$weft" replay "$trace"
expect 0 "$digest" "$weft" replay "$trace"
expect 0 "^weft replay: WEFT_REPLAY=$dir/$trace " "$weft" replay "$trace"
expect 2 "no-such.weft" "$weft" replay no-such.weft
printf 'not a trace at all\n' >garbage.weft
expect 2 "garbage.weft: .* at byte 0" "$weft" replay garbage.weft
expect 2 "required" "$weft" replay

echo "== allocator logs"
"$weft" alloc record -o calls.weft -- ls -la / >/dev/null 2>record.log ||
  { echo "FAIL: record"; cat record.log; exit 1; }
expect 2 "calls.weft is an allocator log: .weft alloc replay" "$weft" replay calls.weft
expect 2 "calls.weft is an allocator log, which has no strands" \
  "$weft" trace export calls.weft --format html -o calls.html
[ ! -e calls.html ] || { echo "FAIL: export wrote calls.html"; fail=1; }
expect 0 "converted calls.weft to slots on the way" "$weft" alloc replay calls.weft
expect 0 "blocks .*all checked" "$weft" alloc replay calls.weft
expect 0 "^glibc " "$weft" alloc compare calls.weft glibc
expect 2 "schedule\|form\|allocator log" "$weft" alloc replay "$trace"
expect 2 "garbage.weft: .* at byte 0" "$weft" alloc replay garbage.weft
left=$(ls "$TMPDIR")
[ -z "$left" ] || { echo "FAIL: temporary slots logs left behind: $left"; fail=1; }

printf '= Start\n@ ./a.out:[0x1234] + 0x5000 0x10\n@ ./a.out:[0x1234] - 0x5000\n= End\n' >m.txt
if command -v zstd >/dev/null; then
  zstd -q m.txt -o m.txt.zst
  expect 0 "imported 2 allocator calls" "$weft" alloc import m.txt.zst -o m.weft
else
  echo "skip: no zstd command (the importer's own test covers it)"
fi
gzip -c m.txt >m.txt.gz
expect 0 "imported 2 allocator calls" "$weft" alloc import m.txt.gz -o mg.weft
exit $fail
