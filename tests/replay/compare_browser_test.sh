#!/usr/bin/env bash
# The allocator comparison page (weft alloc compare --html), opened in
# headless Chromium and checked by its DOM (not by pixels): the table with
# the terminal's ratio columns, the throughput chart with a bar per
# allocator, the latency chart with each allocator's calls, the memory
# chart, and axis ticks that carry a unit.
# Usage: compare_browser_test.sh <weft> [shot.png]
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
fail() { echo "FAIL: $*"; exit 1; }
"$weft" alloc record -o "$work/git.weft" -- git --version >/dev/null 2>&1
"$weft" alloc convert "$work/git.weft" -o "$work/git.slots.weft" >/dev/null
"$weft" alloc compare "$work/git.slots.weft" glibc jemalloc mimalloc \
  --html "$work/c.html" >"$work/compare.txt"
flags=(--headless --no-sandbox --disable-gpu --no-first-run
       --disable-background-networking --disable-component-update
       --disable-sync --hide-scrollbars --user-data-dir="$work/profile")
timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$work/c.html" \
  >"$work/dom.html" 2>/dev/null || true
d="$work/dom.html"
count() { grep -o "$1" "$d" | wc -l || true; }
grep -q '<table id="figures">' "$d" || fail "no table"
[ "$(count '<td class="ratio">')" -eq 12 ] ||
  fail "expected 4 ratio columns for 3 allocators"
grep -q '<svg class="chart" id="throughput"' "$d" || fail "no throughput chart"
[ "$(count '<rect class="bar"')" -eq 3 ] || fail "one throughput bar per allocator"
grep -q '<svg class="chart" id="latency"' "$d" || fail "no latency chart"
for a in glibc jemalloc mimalloc; do
  grep -q "<g class=\"latency\" data-allocator=\"$a\" data-call=\"malloc\"" "$d" ||
    fail "no malloc latency for $a"
done
grep -q '<svg class="chart" id="memory"' "$d" || fail "no memory chart"
[ "$(count '<polyline class="rss"')" -eq 3 ] || fail "one RSS line per allocator"
# Ticks with units: bytes, operation counts, times.
grep -Eq 'class="tick"[^>]*>[0-9.]+ (B|KiB|MiB|GiB)<' "$d" || fail "no byte ticks"
grep -Eq 'class="tick"[^>]*>[0-9.]+ (ns|us|ms)<' "$d" || fail "no time ticks"
grep -Eq 'class="tick"[^>]*>[0-9.]+[kM]<' "$d" || fail "no count ticks"
if [ -n "$shot" ]; then
  timeout 120 "$browser" "${flags[@]}" --window-size=1000,1400 \
    --screenshot="$shot" "file://$work/c.html" >/dev/null 2>&1
  echo "screenshot: $shot"
fi
echo "ok"
