#!/usr/bin/env bash
# The HTML timeline of a failing schedule, opened in headless Chromium:
# the page must draw one lane per strand of the trace, with no script
# error. Usage: timeline_browser_test.sh <weft> [screenshot.png]
set -euo pipefail
weft="$1"
shot="${2:-}"
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "SKIP: no chromium (.ci/setup installs it)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
WEFT_TRACE_DIR="$work" "$weft" demo abba-deadlock >"$work/demo.txt" 2>&1
trace=$(ls "$work"/demo-abba-deadlock-seed*[0-9].weft)
strands=$("$weft" trace stat "$trace" | sed -n 's/^strands: //p')
[ "$strands" -ge 3 ] || { echo "FAIL: expected 3+ strands, got '$strands'"; exit 1; }
"$weft" trace export --format html -o "$work/t.html" "$trace"
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update
       --disable-sync --hide-scrollbars --user-data-dir="$work/profile"
       --enable-logging=stderr --v=0 --virtual-time-budget=5000)
timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$work/t.html" \
  >"$work/dom.html" 2>"$work/browser.log" || true
if grep -q "Uncaught" "$work/browser.log"; then
  grep "CONSOLE" "$work/browser.log"
  echo "FAIL: the page's script raised an error"
  exit 1
fi
lanes=$(grep -o '<g class="lane"' "$work/dom.html" | wc -l)
drawn=$(grep -o 'data-drawn="[0-9]*"' "$work/dom.html" | grep -o '[0-9]*' || true)
echo "trace has $strands strands; the browser drew $lanes lanes (page says $drawn)"
[ "$lanes" -eq "$strands" ] || { echo "FAIL: one lane per strand expected"; exit 1; }
[ "$drawn" = "$strands" ] || { echo "FAIL: the page did not finish drawing"; exit 1; }
for name in main transfer report; do
  grep -q "data-name=\"$name\"" "$work/dom.html" ||
    { echo "FAIL: no lane for strand '$name'"; exit 1; }
done
if [ -n "$shot" ]; then
  timeout 120 "$browser" "${flags[@]}" --window-size=1200,360 \
    --screenshot="$shot" "file://$work/t.html" >/dev/null 2>&1
  echo "screenshot: $shot"
fi
echo "ok"
