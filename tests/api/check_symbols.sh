#!/bin/sh
# Compare the dynamic symbols libgenmodel defines with the checked-in list.
# Usage: check_symbols.sh LIBRARY EXPECTED_LIST
set -eu
actual=$(nm -D --defined-only "$1" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' | sort)
expected=$(grep -v '^#' "$2" | sort)
if [ "$actual" != "$expected" ]; then
  echo "exported symbols differ from $2 (< expected, > actual):"
  printf '%s\n' "$expected" > "${TMPDIR:-/tmp}/gm-expected.$$"
  printf '%s\n' "$actual" | diff "${TMPDIR:-/tmp}/gm-expected.$$" - || true
  rm -f "${TMPDIR:-/tmp}/gm-expected.$$"
  exit 1
fi
echo "$(printf '%s\n' "$actual" | wc -l) symbols, as listed"
