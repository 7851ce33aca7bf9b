#!/usr/bin/env bash
# Makes the guide's pictures, docs/timeline.png and docs/alloc_compare.png,
# with headless Chromium, from the pages the browser tests check:
#   tests/docs/screenshots.sh build/replay/weft build/tests/replay/long_schedule
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
docs="$here/../../docs"
bash "$here/../replay/timeline_browser_test.sh" "$1" "$2" "$docs/timeline.png"
bash "$here/../replay/compare_browser_test.sh" "$1" "$docs/alloc_compare.png"
