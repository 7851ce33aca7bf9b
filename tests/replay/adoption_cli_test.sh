#!/usr/bin/env bash
# The weft command's adoption conventions, each error path with its message
# and exit status: `weft replay FILE` runs the command a schedule trace
# names (and refuses other files, exit 2); `weft trace export` refuses an
# allocator log; `weft alloc replay|compare` take a calls log directly,
# converting it on the way; `weft alloc import` knows a compressed mtrace
# log by its content; an unknown demo, a trace that names no command and
# an events trace are refused (exit 2), saying what to do instead; no
# command writes over a file it reads, `alloc record` replaces its output
# only once the program logs, an allocator library that is not a shared
# object is refused, and numeric options take no sign and no overflow.
# Usage: adoption_cli_test.sh WEFT CORPUS (tests/traces/corpus)
set -uo pipefail
weft=$1
corpus=$2
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
expect 2 "schedule.weft names no command to run (metadata 'command' is '')" \
  "$weft" replay "$corpus/schedule.weft"
expect 2 "events.weft is an events trace .*: .weft trace show. prints it" \
  "$weft" replay "$corpus/events.weft"

echo "== unknown commands are named"
expect 2 "weft trace: no command 'bogus'" "$weft" trace bogus
expect 2 "weft alloc: no command 'bogus'" "$weft" alloc bogus

echo "== weft demo"
expect 2 "no example named 'nope'. Examples:" "$weft" demo nope
expect 2 "^  lost-update" "$weft" demo nope

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
# Compressed, but not a log of any known form; and a damaged gzip stream.
printf 'neither mtrace nor heaptrack\n' | gzip -c >other.txt.gz
expect 2 "other.txt.gz.* at byte 0" "$weft" alloc import other.txt.gz -o o.weft
head -c 20 m.txt.gz >cut.txt.gz
expect 2 "cut.txt.gz.* at byte [0-9]" "$weft" alloc import cut.txt.gz -o c.weft
echo "== an output is never an input, and a failed command replaces nothing"
cp "$trace" self.weft
expect 2 "the output self.weft is the trace being read" \
  "$weft" trace export -o self.weft self.weft
cmp -s "$trace" self.weft || { echo "FAIL: export overwrote its input"; fail=1; }
"$weft" alloc convert calls.weft -o slots.weft >/dev/null 2>&1 ||
  { echo "FAIL: convert"; fail=1; }
cp slots.weft slots.copy
expect 2 "the output slots.weft is the log being read" \
  "$weft" alloc compare slots.weft glibc --csv slots.weft
cmp -s slots.copy slots.weft || { echo "FAIL: compare overwrote its log"; fail=1; }
echo precious >keep.txt
expect 127 "cannot run /no/such/program" \
  "$weft" alloc record -o keep.txt -- /no/such/program
grep -qx precious keep.txt || { echo "FAIL: record replaced keep.txt"; fail=1; }
cp /bin/true mytrue
expect 2 "the output mytrue is the program being read" \
  "$weft" alloc record -o mytrue -- ./mytrue
cmp -s /bin/true mytrue || { echo "FAIL: record replaced mytrue"; fail=1; }

echo "== an allocator library that would not load is refused, not glibc"
head -c 64 /dev/zero >notelf.so
expect 2 "notelf.so is not an ELF shared object" \
  "$weft" alloc replay -a ./notelf.so slots.weft
expect 2 "cannot read allocator library /no/such.so" \
  "$weft" alloc replay -a /no/such.so slots.weft
expect 2 "is not an ELF shared object" \
  "$weft" alloc compare slots.weft glibc ./notelf.so --csv c.csv
[ ! -e c.csv ] || { echo "FAIL: compare wrote c.csv"; fail=1; }

echo "== numbers: no sign, no overflow"
expect 2 "expected an integer from 1 to .*, not '-5'" "$weft" demo -n -5
expect 2 "expected an integer from 1 to .*, not '0'" "$weft" demo -n 0
expect 2 "not '-1'" "$weft" trace show "$trace" -n -1
expect 2 "not '99999999999999999999'" \
  "$weft" alloc generate -o g.weft --calls 10 --seed 99999999999999999999
[ ! -e g.weft ] || { echo "FAIL: generate wrote g.weft"; fail=1; }
exit $fail
