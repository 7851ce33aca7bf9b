#!/usr/bin/env bash
# Every C++ snippet the docs show compiles: each ```cpp block of README.md
# and docs/guide.md must appear, line for line (indentation and blank
# lines aside), in a source file the tests build: docs/examples/ or
# tests/. A line `// ...` or `...` in a block stands for any number of
# lines (code the block leaves out). Prints the file behind each block;
# exit 1 if a block is in none.
# Usage: snippets.sh SRC_DIR
set -euo pipefail
src=$1
cd "$src"
files=$(find docs/examples tests -type f \( -name '*.cc' -o -name '*.h' -o -name '*.c' \) | sort)
# shellcheck disable=SC2086
awk '
  function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
  # Pass 1 (the docs): the blocks, as trimmed non-blank lines.
  FILENAME ~ /\.md$/ {
    if (inblock) {
      if ($0 ~ /^[ \t]*```[ \t]*$/) { inblock = 0; next }
      t = trim($0)
      if (t == "") next
      nl[nb] += 1; line[nb, nl[nb]] = t
      next
    }
    if ($0 ~ /^[ \t]*```cpp[ \t]*$/) {
      nb += 1; inblock = 1; where[nb] = FILENAME ":" FNR; nl[nb] = 0
    }
    next
  }
  # Pass 2 (the sources): each file as trimmed non-blank lines.
  FNR == 1 { if (prev != "") check(prev); prev = FILENAME; n = 0 }
  { t = trim($0); if (t != "") { n += 1; src[n] = t } }
  END { if (prev != "") check(prev); report() }
  function gap(s) { return s == "// ..." || s == "..." }
  # Does block b match src[] from position p on, its gaps skipping lines?
  function match_from(b, i, p,    q) {
    while (i <= nl[b] && gap(line[b, i])) {
      i += 1
      if (i > nl[b]) return 1
      for (q = p; q <= n; ++q)
        if (src[q] == line[b, i] && match_from(b, i, q)) return 1
      return 0
    }
    for (; i <= nl[b]; ++i) {
      if (gap(line[b, i])) return match_from(b, i, p)
      if (p > n || src[p] != line[b, i]) return 0
      p += 1
    }
    return 1
  }
  function check(file,    b, p) {
    for (b = 1; b <= nb; ++b) {
      if (found[b] != "") continue
      for (p = 1; p <= n; ++p)
        if (src[p] == line[b, 1] && match_from(b, 1, p)) {
          found[b] = file; break
        }
    }
  }
  function report(    b, bad) {
    for (b = 1; b <= nb; ++b) {
      if (found[b] != "") print "ok: " where[b] " is in " found[b]
      else { print "FAIL: " where[b] " (" line[b, 1] " ...) is in no source file the tests build"; bad = 1 }
    }
    exit bad
  }
' README.md docs/guide.md $files
