#!/usr/bin/env bash
# The HTML timeline, opened in headless Chromium and checked by the DOM it
# builds (not by pixels). The ABBA deadlock's page must draw one lane per
# strand, each step's operation with its object and source line, the
# blocked stretches with what they wait on, the failure and the strands it
# involves, a legend and an axis in steps; a 200,000-step schedule must
# open, in detail, on the steps around its failure, from a page of at most
# 2 MB. Usage: timeline_browser_test.sh <weft> <long_schedule> [shot.png]
set -euo pipefail
weft="$1"
long_schedule="$2"
shot="${3:-}"
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "SKIP: no chromium (.ci/setup installs it)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update
       --disable-sync --hide-scrollbars --user-data-dir="$work/profile"
       --enable-logging=stderr --v=0 --virtual-time-budget=5000)
# dom PAGE OUT: the DOM after the page's scripts ran; fails on a script error.
dom() {
  timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$1" \
    >"$2" 2>"$work/browser.log" || true
  if grep -q "Uncaught" "$work/browser.log"; then
    grep "CONSOLE" "$work/browser.log" || true
    fail "the page's script raised an error"
  fi
}
count() { grep -o "$1" "$2" | wc -l || true; }

WEFT_TRACE_DIR="$work" "$weft" demo abba-deadlock >"$work/demo.txt" 2>&1 || true
trace=$(ls "$work"/demo-abba-deadlock-seed*[0-9].weft)
strands=$("$weft" trace stat "$trace" | sed -n 's/^strands: //p')
[ "$strands" -ge 3 ] || fail "expected 3+ strands, got '$strands'"
"$weft" trace export --format html -o "$work/t.html" "$trace"
dom "$work/t.html" "$work/dom.html"
d="$work/dom.html"
lanes=$(count '<g class="lane' "$d")
drawn=$(grep -o 'data-drawn="[0-9]*"' "$d" | grep -o '[0-9]*' || true)
echo "trace has $strands strands; the browser drew $lanes lanes (page says $drawn)"
[ "$lanes" -eq "$strands" ] || fail "one lane per strand expected"
[ "$drawn" = "$strands" ] || fail "the page did not finish drawing"
for name in main transfer report; do
  grep -q "data-name=\"$name\"" "$d" || fail "no lane for strand '$name'"
done
grep -q 'data-mode="detail"' "$d" || fail "a short run is not drawn step by step"
# Each step's operation, with its object and source line, on hover.
grep -q "<title>report, step [0-9]*: lock mutex 'audit' at [^<]*:[0-9]*</title>" "$d" ||
  fail "no operation 'lock mutex 'audit'' with its source line"
# Blocked stretches, with what they wait on.
[ "$(count 'class="blocked"' "$d")" -ge 3 ] || fail "fewer than 3 blocked stretches"
grep -q "<title>transfer blocked: lock mutex 'audit' held by strand 'report'" "$d" ||
  fail "the blocked stretch does not say what it waits on"
# The failure and the strands it involves (all three, in a deadlock).
grep -q 'class="failure-line"' "$d" || fail "no failure line"
[ "$(count 'class="lane involved"' "$d")" -eq 3 ] || fail "the deadlock involves 3 strands"
# The legend, and an axis labelled in steps (not "0us").
for item in ran blocked op wake-up message failure density; do
  grep -q "data-item=\"$item\"" "$d" || fail "the legend has no '$item'"
done
grep -q '>scheduler step<' "$d" || fail "the axis has no title"
ticks=$(grep -o 'class="tick">[0-9,]*<' "$d" | wc -l)
[ "$ticks" -ge 3 ] || fail "fewer than 3 axis ticks"
grep -q '>0us<' "$d" && fail "an axis label reads 0us"

# A long schedule: bounded page, opened in detail on the failure.
"$long_schedule" 200000 "$work/long.weft"
"$weft" trace export --format html -o "$work/long.html" "$work/long.weft"
size=$(stat -c %s "$work/long.html")
echo "200,000-step schedule: page of $size bytes"
[ "$size" -le 2000000 ] || fail "the page is over 2 MB"
dom "$work/long.html" "$work/long-dom.html"
l="$work/long-dom.html"
grep -q 'data-mode="detail"' "$l" || fail "the long run does not open in detail"
grep -q 'class="failure-line"' "$l" || fail "the long run does not open on its failure"
echo "opened on: $(grep -o '<span id="view">[^<]*' "$l" | sed 's/.*>//')," \
  "first drawn $(grep -o 'data-loaded-ms="[0-9]*"' "$l" | grep -o '[0-9]*') ms" \
  "after navigation (not asserted)"
if [ -n "$shot" ]; then
  timeout 120 "$browser" "${flags[@]}" --window-size=1200,420 \
    --screenshot="$shot" "file://$work/t.html" >/dev/null 2>&1
  echo "screenshot: $shot"
fi
echo "ok"
