#!/usr/bin/env bash
# docs/guide.md, "Running the fuzzer", run as the guide says: libFuzzer
# (seeded, a bounded number of runs) finds the hit counter's lost hit; the
# crash file and the trace the target wrote replay the same schedule (same
# digest) in the ordinary program; the corpus becomes weft traces; and, if
# the AFL++ target was built, afl-fuzz finds it too.
# Usage: fuzz_example_test.sh FUZZ_TARGET PROGRAM WEFT [AFL_TARGET]
set -euo pipefail
fuzz=$1 program=$2 weft=$3 afl=${4:-}
dir=$PWD/fuzz-example
rm -rf "$dir" && mkdir -p "$dir/corpus" && cd "$dir"
fail() { echo "FAIL: $*"; exit 1; }

echo "== libFuzzer, seeded, at most 200000 runs"
set +e
"$fuzz" -seed=1 -runs=200000 -artifact_prefix="$dir/" corpus >fuzz.log 2>&1
status=$?
set -e
grep -v '^    #' fuzz.log  # the log without libFuzzer's stack trace
[ "$status" -ne 0 ] || fail "libFuzzer found no crash in 200000 runs"
crash=$(ls "$dir"/crash-* 2>/dev/null | head -1)
[ -n "$crash" ] || fail "libFuzzer wrote no crash file"
grep -q "^weft: assertion failed under the fuzzer's input" fuzz.log ||
  fail "the target did not report the failure"
grep -q "a hit was lost" fuzz.log || fail "not the lost hit"
digest=$(grep -o 'digest 0x[0-9a-f]*' fuzz.log | head -1)
trace=$(grep -o '^  trace: .*' fuzz.log | head -1 | sed 's/^  trace: //')
[ -f "$trace" ] || fail "the target wrote no trace ($trace)"

echo "== the crash file in the ordinary program"
out=$(WEFT_FUZZ_INPUT="$crash" "$program" 2>&1) || fail "exit $?: $out"
echo "$out"
echo "$out" | grep -q "^weft: assertion failed after 1 schedule (strategy bytes" ||
  fail "WEFT_FUZZ_INPUT did not run the crash's schedule"
echo "$out" | grep -q "$digest" || fail "another schedule (want $digest)"
byfile=$(echo "$out" | grep -A1 '^replay it with:' | tail -1 | sed 's/^ *//')
case "$byfile" in WEFT_REPLAY=*) ;; *) fail "no WEFT_REPLAY command" ;; esac
again=$(env -i PATH="$PATH" bash -c "$byfile" 2>&1) || fail "$again"
echo "$again" | grep -q "^weft: assertion failed after 1 schedule " ||
  fail "the shrunk trace did not fail the same way: $again"

echo "== the target's own trace"
again=$(WEFT_REPLAY="$trace" "$program" 2>&1) || fail "$again"
echo "$again"
echo "$again" | grep -q "$digest" || fail "the trace replayed another schedule"
shown=$("$weft" trace show "$trace")
echo "$shown" | tail -3
echo "$shown" | grep -q "FAILURE in 'main'" ||
  fail "weft trace show did not show the failure"

echo "== the corpus as weft traces"
WEFT_FUZZ_RECORD="$dir/corpus-traces" "$fuzz" corpus/* >record.log 2>&1 ||
  fail "running the corpus failed: $(cat record.log)"
# Each input runs (libFuzzer may run one twice to look for leaks) and its
# schedule is written once, named by its digest.
n_inputs=$(ls corpus | wc -l)
n_runs=$(awk '/^Running: /{r++; w=0} /^weft: .* choices -> /{if(!w)n++; w=1} END{print (r==n)?n:-1}' record.log)
n_traces=$(ls corpus-traces | wc -l)
[ "$n_inputs" -gt 0 ] && [ "$n_runs" -eq "$n_inputs" ] && [ "$n_traces" -ge 1 ] ||
  fail "$n_inputs inputs, $n_runs runs recorded, $n_traces traces"
for t in corpus-traces/*.weft; do "$weft" trace verify "$t" >/dev/null; done
one=$(ls corpus-traces/*.weft | head -1)
set +e
again=$(WEFT_REPLAY="$one" "$program" 2>&1)
status=$?
set -e
[ "$status" -eq 1 ] || fail "a passing input's trace: exit $status: $again"
echo "$n_inputs corpus inputs, $n_traces distinct schedules, each a trace that replays: $again"

if [ -n "$afl" ] && command -v afl-fuzz >/dev/null; then
  echo "== AFL++, seeded, until the first crash (60 s at most)"
  mkdir -p afl-in && printf '\0' >afl-in/zero
  AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    AFL_NO_AFFINITY=1 AFL_BENCH_UNTIL_CRASH=1 AFL_FAST_CAL=1 \
    ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0 \
    WEFT_TRACE_DIR= afl-fuzz -i afl-in -o afl-out -s 1 -V 60 -m none \
    -- "$afl" >afl.log 2>&1 || fail "afl-fuzz: $(tail -20 afl.log)"
  found=$(ls afl-out/default/crashes/id:* 2>/dev/null | head -1)
  [ -n "$found" ] || fail "AFL++ found no crash: $(tail -5 afl.log)"
  echo "AFL++: $(basename "$found")"
  out=$(WEFT_FUZZ_INPUT="$found" "$program" 2>&1) || fail "$out"
  echo "$out" | grep -q "a hit was lost" || fail "AFL's crash is not the bug"
  echo "its crash file loses a hit in the ordinary program too"
fi
echo "the fuzzers found the lost hit and their inputs replay as weft traces"
