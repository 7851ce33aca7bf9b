#!/usr/bin/env bash
# The docs show what commands print; this keeps them honest. A block of
# output in README.md or docs/guide.md is marked, on the line before its fence,
#   <!-- output: ID -->          the block is the whole output of command ID
#   <!-- output: ID excerpt -->  the block is a run of lines of that output
#   <!-- output-unchecked: WHY -->  shown but not checked (say why)
# and tests/docs/CMakeLists.txt declares, with weft_doc_output(ID ...), the
# command that prints it. See tests/docs/README.md for the rules.
#
#   doc_output.sh check --id ID --src DIR --build DIR --work DIR [--exit N]
#                 [--docs "FILE..."] -- COMMAND [ARG...]
#     runs COMMAND in a fresh WORK directory (stdout and stderr together,
#     WEFT_* and GTEST_* unset), rewrites WORK as /tmp/weft, the build
#     directory as /tmp/weft/build and the source directory as /tmp/weft,
#     and compares every block marked ID with it. Exit 1 on any difference.
#   doc_output.sh coverage --declared FILE [--docs "FILE..."]
#     every bare ``` block is marked, every marker names a declared ID and
#     every declared ID is shown somewhere. Exit 1 otherwise.
#
# In a block: a line `...` stands for any number of lines, `[...]` inside a
# line for any text, and lines starting with `$ ` (the command typed) are
# not compared.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-}
shift || true
id="" src="" build="" work="" want_exit=0 declared="" docs=""
while [ $# -gt 0 ]; do
  case $1 in
  --id) id=$2; shift 2 ;;
  --src) src=$2; shift 2 ;;
  --build) build=$2; shift 2 ;;
  --work) work=$2; shift 2 ;;
  --exit) want_exit=$2; shift 2 ;;
  --declared) declared=$2; shift 2 ;;
  --docs) docs=$2; shift 2 ;;
  --) shift; break ;;
  *) echo "doc_output.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
if [ -z "$docs" ]; then
  top=${src:-$(cd "$here/../.." && pwd)}
  docs="$top/README.md $top/docs/guide.md"
fi

# blocks ID: prints "FILE:LINE MODE" then the block's lines (indent
# removed), blocks separated by a line "\f".
blocks() {
  awk -v want="$1" '
    FNR == 1 { pending = "" ; inblock = 0 }
    inblock {
      if ($0 ~ "^" indent "```[ \t]*$") { inblock = 0; printf "\f\n"; next }
      line = $0
      if (substr(line, 1, length(indent)) == indent) line = substr(line, length(indent) + 1)
      print line; next
    }
    pending != "" {
      if (match($0, /^[ \t]*```/)) {
        indent = substr($0, 1, RLENGTH - 3); inblock = 1
        print FILENAME ":" FNR " " pending; pending = ""; next
      }
      print FILENAME ":" FNR ": the marker for " want " is not followed by a fence" > "/dev/stderr"
      bad = 1; pending = ""
    }
    match($0, /^[ \t]*<!-- output: [^ ]+( excerpt)? -->[ \t]*$/) {
      n = split($0, w, /[ \t]+/)
      for (i = 1; i <= n; i++) if (w[i] == "output:") break
      if (w[i + 1] == want) pending = (w[i + 2] == "excerpt") ? "excerpt" : "whole"
    }
    END { exit bad }' $docs
}

# matches BLOCK OUTPUT MODE: exit 0 if the block matches the output.
matches() {
  awk -v mode="$3" '
    function linematch(p, t,    rest, k, piece, pos, first) {
      if (index(p, "[...]") == 0) return p == t
      first = 1
      while ((k = index(p, "[...]")) > 0) {
        piece = substr(p, 1, k - 1); p = substr(p, k + 5)
        if (first) { if (substr(t, 1, length(piece)) != piece) return 0; t = substr(t, length(piece) + 1); first = 0 }
        else { pos = index(t, piece); if (pos == 0) return 0; t = substr(t, pos + length(piece)) }
      }
      return length(t) >= length(p) && substr(t, length(t) - length(p) + 1) == p
    }
    FNR == NR { if ($0 ~ /^[ \t]*\.\.\.[ \t]*$/) $0 = "..."; if ($0 !~ /^\$ /) pat[++m] = $0; next }
    { txt[++n] = $0 }
    END {
      if (mode == "excerpt") { for (i = m; i >= 1; i--) pat[i + 1] = pat[i]; pat[1] = "..."; m += 2; pat[m] = "..." }
      for (j = 1; j <= n + 1; j++) ok[m + 1, j] = (j == n + 1)
      for (i = m; i >= 1; i--)
        for (j = n + 1; j >= 1; j--) {
          if (pat[i] == "...") ok[i, j] = ok[i + 1, j] || (j <= n && ok[i, j + 1])
          else ok[i, j] = j <= n && ok[i + 1, j + 1] && linematch(pat[i], txt[j])
        }
      exit ok[1, 1] ? 0 : 1
    }' "$1" "$2"
}

check() {
  [ -n "$id" ] && [ -n "$work" ] && [ -n "$build" ] && [ -n "$src" ] && [ $# -gt 0 ] || {
    echo "usage: doc_output.sh check --id ID --src DIR --build DIR --work DIR [--exit N] [--docs FILES] -- COMMAND..." >&2
    exit 2
  }
  rm -rf "$work" && mkdir -p "$work/blocks"
  blocks "$id" >"$work/blocks.txt"
  local n
  n=$(awk 'BEGIN { RS = "\f\n" } NF { printf "%s", $0 > ("'"$work"'/blocks/" ++n) } END { print n + 0 }' "$work/blocks.txt")
  local status=0
  (
    cd "$work"
    for v in $(env | sed -n 's/^\(\(WEFT\|GTEST\)_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
    "$@" >"$work/raw.txt" 2>&1
  ) || status=$?
  # Longest first: the work directory is inside the build directory, which
  # may be inside the source directory.
  # A compiler run through ccache with CCACHE_BASEDIR sees the sources by a
  # path relative to the build directory (__FILE__ is ../sim/...): that
  # prefix, at the start of a word, is the source directory too.
  local rel
  rel=$(realpath -m --relative-to="$build" "$src")/
  awk -v w="$work" -v b="$build" -v s="$src" -v r="$rel" '
    function swap(line, from, to,    k, out) {
      out = ""
      while (from != "" && (k = index(line, from)) > 0) { out = out substr(line, 1, k - 1) to; line = substr(line, k + length(from)) }
      return out line
    }
    function swaprel(line,    k, out, before) {
      out = ""
      while (r ~ /^\.\./ && (k = index(line, r)) > 0) {
        before = k == 1 ? " " : substr(line, k - 1, 1)
        out = out substr(line, 1, k - 1) (before ~ /[ (=]/ ? "/tmp/weft/" : r)
        line = substr(line, k + length(r))
      }
      return out line
    }
    { print swaprel(swap(swap(swap($0, w, "/tmp/weft"), b, "/tmp/weft/build"), s, "/tmp/weft")) }' \
    "$work/raw.txt" >"$work/output.txt"
  local failed=0
  if [ "$n" -eq 0 ]; then
    echo "FAIL: no block of $docs is marked <!-- output: $id -->; the command printed ($work/output.txt):"
    cat "$work/output.txt"
    exit 1
  fi
  if [ "$status" -ne "$want_exit" ]; then
    echo "FAIL: $id: the command exited $status, the docs' $id expects $want_exit: $*"
    failed=1
  fi
  for b in "$work"/blocks/*; do
    local where mode
    read -r where mode <"$b"
    tail -n +2 "$b" >"$b.lines"
    if matches "$b.lines" "$work/output.txt" "$mode"; then
      echo "ok: $where ($mode) is what '$id' prints"
    else
      failed=1
      echo "FAIL: $where: the block marked '$id' ($mode) is not what the command printed."
      echo "--- the block"
      cat "$b.lines"
      echo "--- the command's output (paths rewritten), $(wc -l <"$work/output.txt") lines: $work/output.txt"
      head -200 "$work/output.txt"
      echo "---"
    fi
  done
  exit $failed
}

coverage() {
  [ -f "$declared" ] || { echo "usage: doc_output.sh coverage --declared FILE [--docs FILES]" >&2; exit 2; }
  awk -v declared="$declared" '
    BEGIN { while ((getline d < declared) > 0) if (d != "") known[d] = 1 }
    function fail(msg) { print FILENAME ":" FNR ": " msg; bad = 1 }
    FNR == 1 { inblock = 0; marked = ""; prev = "" }
    inblock { if ($0 ~ "^" indent "```[ \t]*$") inblock = 0; next }
    match($0, /^[ \t]*```/) {
      indent = substr($0, 1, RLENGTH - 3); inblock = 1
      lang = substr($0, RLENGTH + 1); gsub(/[ \t]/, "", lang)
      if (lang == "" && marked == "")
        fail("a block of output (a bare ``` fence) with no <!-- output: ID --> marker; mark it, or give the fence a language if it is not output")
      marked = ""; next
    }
    match($0, /<!-- output: [^ ]+/) {
      id = substr($0, RSTART + 13, RLENGTH - 13)
      if (!(id in known)) fail("<!-- output: " id " --> names no weft_doc_output() in tests/docs/CMakeLists.txt")
      shown[id] = 1; marked = id; next
    }
    /<!-- output-unchecked: .+-->/ { marked = "unchecked"; next }
    { marked = "" }
    END {
      for (d in known) if (!(d in shown)) { print "weft_doc_output(" d ") is declared but no block of the docs is marked with it"; bad = 1 }
      exit bad
    }' $docs
}

case $mode in
check) check "$@" ;;
coverage) coverage ;;
*) echo "usage: doc_output.sh check|coverage ..." >&2; exit 2 ;;
esac
