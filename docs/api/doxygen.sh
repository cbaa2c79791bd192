#!/bin/sh
# Build the API reference into OUT/html; fail, listing them, on any
# Doxygen warning (an undocumented public symbol among them).
# Usage: doxygen.sh SOURCE_ROOT OUT VERSION. Exit 77 (skipped) without doxygen.
set -eu
src=$1 out=$2 version=$3
command -v doxygen >/dev/null 2>&1 || { echo "doxygen is not installed (Debian: doxygen)"; exit 77; }
mkdir -p "$out"
log="$out/warnings.log"
cd "$src"
status=0
{ cat docs/api/Doxyfile; printf 'OUTPUT_DIRECTORY = %s\nPROJECT_NUMBER = %s\nWARN_LOGFILE = %s\n' "$out" "$version" "$log"; } |
  doxygen - || status=$?
if [ -s "$log" ]; then
  echo "doxygen: $(wc -l < "$log") warning line(s) in the public headers:"
  cat "$log"
  exit 1
fi
exit "$status"
