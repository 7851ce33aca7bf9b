#!/usr/bin/env bash
# Measures how long the HTML timeline of a long schedule takes to open in
# headless Chromium (docs/performance.md, "The timeline of a long run"):
# for each length, the trace's size, the export's time, the page's size,
# the time from navigation to the end of the page's first drawing (the
# page records it as data-loaded-ms), and Chromium's whole wall time
# beside that of an empty page. Not a test: figures for the docs.
# Usage: timeline_render.sh <weft> <long_schedule> [steps...]
set -euo pipefail
weft="$1"
long_schedule="$2"
shift 2
lengths=("${@:-200000 1000000}")
browser=$(command -v chromium || command -v chromium-browser)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(--headless --no-sandbox --disable-gpu --no-first-run
       --disable-background-networking --disable-component-update
       --disable-sync --hide-scrollbars --user-data-dir="$work/profile")
seconds() { date +%s.%N; }
open_page() {  # prints wall seconds; leaves the DOM in $work/dom.html
  local t0 t1
  t0=$(seconds)
  timeout 300 "$browser" "${flags[@]}" --dump-dom "file://$1" >"$work/dom.html" 2>/dev/null
  t1=$(seconds)
  echo "$t1 - $t0" | bc
}
echo '<!doctype html><html><body>empty</body></html>' >"$work/empty.html"
open_page "$work/empty.html" >/dev/null  # warm the browser's files
empty=$(open_page "$work/empty.html")
printf '%-10s %10s %9s %10s %11s %12s\n' steps "trace MB" "export s" "page MB" "drawn ms" "wall s (empty)"
for n in ${lengths[*]}; do
  "$long_schedule" "$n" "$work/long.weft" >/dev/null
  t0=$(seconds)
  "$weft" trace export --format html -o "$work/long.html" "$work/long.weft" >/dev/null
  t1=$(seconds)
  wall=$(open_page "$work/long.html")
  drawn=$(grep -o 'data-loaded-ms="[0-9]*"' "$work/dom.html" | grep -o '[0-9]*')
  printf '%-10s %10.2f %9.2f %10.2f %11s %7.2f (%.2f)\n' "$n" \
    "$(echo "$(stat -c %s "$work/long.weft") / 1000000" | bc -l)" \
    "$(echo "$t1 - $t0" | bc)" \
    "$(echo "$(stat -c %s "$work/long.html") / 1000000" | bc -l)" \
    "$drawn" "$wall" "$empty"
done
