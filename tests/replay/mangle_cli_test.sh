#!/usr/bin/env bash
# The weft command on damaged files, a sample (tests/replay/mangle_test.cc
# is the exhaustive, in-process test): a schedule trace that `weft demo`
# writes, a calls log that `weft alloc record` writes and the slots log
# that `weft alloc convert` makes of it, each cut, bit-flipped, emptied to
# its header and with a header byte changed, through every command that
# reads it. No command exits 0 on a changed file or dies of a signal, every
# message names the file and a byte offset, WEFT_REPLAY of a damaged or
# empty schedule exits non-zero, a failed convert leaves no output, and
# FIFOs, pipes, /dev/zero and a zstd header before 2 GB of zeros are
# refused, each under a timeout.
set -uo pipefail
weft="$1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
fail() { echo "FAIL: $*"; exit 1; }
t() { timeout 60 "$@"; }

# expect STATUSES FILE CMD...: runs CMD, whose status must be one of
# STATUSES (e.g. "2 3"), and whose stderr must name FILE and a byte offset.
expect() {
  local want="$1" file="$2"
  shift 2
  t "$@" >out.txt 2>err.txt
  local rc=$?
  case " $want " in *" $rc "*) ;; *)
    cat out.txt err.txt; fail "$* exited $rc, not one of $want" ;; esac
  [ "$rc" -eq 0 ] && return
  grep -q "$file.* at byte [0-9]" err.txt out.txt ||
    { cat out.txt err.txt; fail "$*: no message with $file and a byte offset"; }
}

# header_bytes FILE: the header's size, as `weft trace stat` prints it.
header_bytes() {
  "$weft" trace stat "$1" | sed -n 's/^file: .*(header \([0-9]*\),.*/\1/p'
}

# mutants FILE: writes FILE's mutants as m-*.weft: cut at the header, in
# the middle and one byte short; bits flipped in the frames and in the
# header; a header byte changed.
mutants() {
  local f="$1" size head
  size=$(stat -c %s "$f")
  head=$(header_bytes "$f")
  rm -f m-*.weft
  head -c "$head" "$f" >m-header-only.weft
  head -c $((size / 2)) "$f" >m-cut-half.weft
  head -c $((size - 1)) "$f" >m-cut-1.weft
  for at in $((head + 3)) $(((head + size) / 2)) $((size - 5)) 9 $((head - 2)); do
    cp "$f" "m-flip-$at.weft"
    byte=$(od -An -tu1 -j "$at" -N1 "$f" | tr -d ' ')
    printf "$(printf '\\%03o' $((byte ^ 4)))" |
      dd of="m-flip-$at.weft" bs=1 seek="$at" conv=notrunc status=none
  done
}

# A schedule trace of the demo, and its mutants through every reader.
WEFT_TRACE_DIR=traces "$weft" demo lost-update >/dev/null 2>&1
trace=$(ls traces/*.shrunk.weft | head -1)
[ -f "$trace" ] || fail "weft demo wrote no trace"
expect 0 "$trace" "$weft" trace verify "$trace"
mutants "$trace"
for m in m-*.weft; do
  expect "2 3" "$m" "$weft" trace verify "$m"
  expect "2 3" "$m" "$weft" trace show "$m"
  expect "2 3" "$m" "$weft" trace stat "$m"
  expect "2 3" "$m" "$weft" trace export -o "$m.json" "$m"
  # Replaying a damaged or empty schedule: refused, exit 2.
  WEFT_REPLAY="$m" expect "1 2" "$m" "$weft" demo lost-update
done
grep -q "no end marker" <("$weft" trace verify m-header-only.weft) ||
  fail "a file cut after its header did not say it has no end marker"

# A calls log, its slots log, and their mutants.
"$weft" alloc record -o calls.weft -- ls / >/dev/null 2>&1
expect 0 calls.weft "$weft" alloc convert calls.weft -o slots.weft
cp slots.weft good.slots
for f in calls.weft slots.weft; do
  mutants "$f"
  for m in m-*.weft; do
    expect "2 3" "$m" "$weft" trace verify "$m"
    expect "2 3" "$m" "$weft" trace show "$m"
    expect "2 3" "$m" "$weft" trace stat "$m"
    if [ "$f" = calls.weft ]; then
      cp good.slots out.slots
      expect "2 3" "$m" "$weft" alloc convert "$m" -o out.slots
    else
      expect 2 "$m" "$weft" alloc replay "$m"
    fi
  done
done

# A failed convert (exit 2) leaves the earlier output alone and no
# temporary file beside it.
cp good.slots out.slots
head -c 20 calls.weft >bad.weft
expect 2 bad.weft "$weft" alloc convert bad.weft -o out.slots
cmp -s out.slots good.slots || fail "a failed convert replaced its output"
ls | grep -q 'tmp-' && fail "a failed convert left a temporary file"

# Files that are not files.
mkfifo fifo
expect 2 fifo "$weft" trace verify fifo
expect 2 fifo "$weft" alloc convert fifo -o x.slots
expect 2 /dev/zero "$weft" trace verify /dev/zero
grep -q "character device" err.txt || fail "/dev/zero was not called a device"
t bash -c "'$weft' trace verify <(cat '$trace')" >out.txt 2>err.txt
[ $? -eq 2 ] && grep -q "not a regular file" err.txt ||
  { cat out.txt err.txt; fail "a pipe was not refused as one"; }

# A weft header, a zstd frame header, then 2 GB of zeros (sparse): the
# reader looks for the next frame within a frame's maximum size, not
# through the whole file.
head -c "$(header_bytes "$trace")" "$trace" >zeros.weft
printf '\x28\xb5\x2f\xfd\x24\x00' >>zeros.weft
truncate -s 2G zeros.weft
expect 3 zeros.weft "$weft" trace verify zeros.weft
echo "every mutant refused or read with losses, every message located"
