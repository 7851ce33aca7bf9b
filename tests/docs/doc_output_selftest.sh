#!/usr/bin/env bash
# The doc check fails when a shown output is changed by hand: on a copy of
# the docs, change one line of the first test's report (its digest), and
# the check of that output must fail naming the block; remove a marker, and
# the coverage check must fail naming the bare block. The unchanged copy
# passes both, so the failures are the edits'.
# Usage: doc_output_selftest.sh SRC BUILD WORK DECLARED FIRST_TEST_BINARY
set -euo pipefail
src=$1 build=$2 work=$3 declared=$4 first_test=$5
check=$src/tests/docs/doc_output.sh
fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$work" && mkdir -p "$work/docs"
cp "$src/README.md" "$work/" && cp "$src/docs/guide.md" "$work/docs/"
guide=$work/docs/guide.md
docs="$work/README.md $guide"
run() {
  bash "$check" check --id first_test --src "$src" --build "$build" \
    --work "$work/run" --docs "$docs" -- "$first_test"
}

echo "== the copy as it is passes"
run >"$work/as-is.log" 2>&1 || fail "the unchanged copy fails: $(cat "$work/as-is.log")"
bash "$check" coverage --declared "$declared" --docs "$docs" ||
  fail "the unchanged copy fails the coverage check"

echo "== one digest of the first test's report changed by hand"
line=$(awk '/<!-- output: first_test -->/ { m = 1 } m && /digest 0x/ { print FNR; exit }' "$guide")
[ -n "$line" ] || fail "no digest line in the block marked first_test"
sed -i "${line}s/digest 0x[0-9a-f]*/digest 0x0123456789abcdef/" "$guide"
set +e
run >"$work/edited.log" 2>&1
status=$?
set -e
cat "$work/edited.log" | grep -E '^(FAIL|ok)' || true
[ "$status" -eq 1 ] || fail "the check exited $status on the edited guide"
grep -q "^FAIL: $guide:[0-9]*: the block marked 'first_test'" "$work/edited.log" ||
  fail "the check did not name the edited block"

echo "== a marker removed"
cp "$src/docs/guide.md" "$guide"
sed -i '0,/<!-- output: first_test -->/{/<!-- output: first_test -->/d}' "$guide"
set +e
bash "$check" coverage --declared "$declared" --docs "$docs" >"$work/coverage.log" 2>&1
status=$?
set -e
cat "$work/coverage.log"
[ "$status" -eq 1 ] || fail "the coverage check exited $status with a marker removed"
grep -q "guide.md:[0-9]*: a block of output (a bare \`\`\` fence) with no" "$work/coverage.log" ||
  fail "the coverage check did not name the bare block"
echo "the doc check fails on a hand-edited output and on an unmarked one"
