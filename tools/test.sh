#!/bin/sh
# The test command: install what is missing, then build and run every test
# twice, once plainly and once under AddressSanitizer + UBSan.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh

run_suite() {
  dir=$1; shift
  [ -f "$dir/build.ninja" ] || meson setup "$dir" -Dtests=enabled "$@"
  meson configure "$dir" -Dtests=enabled "$@" >/dev/null
  meson test -C "$dir" --print-errorlogs --num-processes 2
}

run_suite build-test
echo "== under AddressSanitizer and UndefinedBehaviorSanitizer"
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
  run_suite build-sanitize -Db_sanitize=address,undefined -Db_lundef=false
