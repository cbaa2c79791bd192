#!/bin/sh
# The test command: install what is missing, then build and run every test
# three times: plainly on each backend (oneDNN, then OpenBLAS alone), and
# under AddressSanitizer + UBSan on oneDNN; then fuzz the file parsers
# for a few minutes (clang, libFuzzer).
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh

run_suite() {
  dir=$1; suite=$2; shift 2
  [ -f "$dir/build.ninja" ] || meson setup "$dir" -Dtests=enabled "$@"
  meson configure "$dir" -Dtests=enabled "$@" >/dev/null
  meson test -C "$dir" --print-errorlogs --num-processes 2 $suite
}

# The default backend, oneDNN: required here, so that a machine without it
# fails instead of testing OpenBLAS twice.
run_suite build-test "" -Donednn=enabled
# Every test again on the portable backend, in a build that has no other:
# that the library builds and passes where only OpenBLAS is installed.
echo "== on OpenBLAS alone (-Donednn=disabled)"
run_suite build-openblas "" -Donednn=disabled
echo "== under AddressSanitizer and UndefinedBehaviorSanitizer"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1
run_suite build-sanitize "--no-suite fuzz" -Donednn=enabled -Db_sanitize=address,undefined -Db_lundef=false
# The fuzzers test the loaders; what they multiply is a batch-1 sample,
# which either backend runs on OpenBLAS's gemv.
echo "== fuzzing the safetensors parser, the checkpoint loaders and the dataset parsers (NPY, CSV)"
(export CC=clang; run_suite build-fuzz "--suite fuzz" -Dfuzz=true -Db_sanitize=address,undefined \
  -Db_lundef=false -Dexamples=false -Dpython=disabled -Donednn=disabled)
