#!/bin/sh
# The test command: install what is missing, then build and run every test
# twice, once plainly and once under AddressSanitizer + UBSan; then fuzz the
# checkpoint loader for a few minutes (clang, libFuzzer).
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh

run_suite() {
  dir=$1; suite=$2; shift 2
  [ -f "$dir/build.ninja" ] || meson setup "$dir" -Dtests=enabled "$@"
  meson configure "$dir" -Dtests=enabled "$@" >/dev/null
  meson test -C "$dir" --print-errorlogs --num-processes 2 $suite
}

run_suite build-test ""
echo "== under AddressSanitizer and UndefinedBehaviorSanitizer"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1
run_suite build-sanitize "--no-suite fuzz" -Db_sanitize=address,undefined -Db_lundef=false
echo "== fuzzing the safetensors parser and the checkpoint loaders"
(export CC=clang; run_suite build-fuzz "--suite fuzz" -Dfuzz=true -Db_sanitize=address,undefined \
  -Db_lundef=false -Dexamples=false -Dpython=disabled)
