#!/bin/sh
# Every complete C program in README.md and docs/*.md (a ```c block with a
# main function) compiles and links against the built library without a
# single warning. Fragments (blocks without main) are left alone.
# Usage: check_doc_examples.sh SOURCE_ROOT BUILD_ROOT B_SANITIZE
set -eu
src=$1 build=$2 sanitize=$3
san=""
[ "$sanitize" = none ] || san="-fsanitize=$sanitize"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
lib=$(find "$build/lib" -maxdepth 1 -name 'libgenmodel.so' | head -n 1)
[ -n "$lib" ] || { echo "libgenmodel.so not found under $build/lib"; exit 1; }

count=0
for doc in "$src"/README.md "$src"/docs/*.md; do
  # split the document's ```c blocks into numbered files
  awk -v out="$tmp/$(basename "$doc" .md)" '
    /^```c$/ { n++; on = 1; next }
    /^```/   { on = 0; next }
    on       { print > (out "-" n ".c") }
  ' "$doc"
done
for f in "$tmp"/*.c; do
  [ -e "$f" ] || continue
  grep -q 'int main' "$f" || continue
  count=$((count + 1))
  if ! cc -std=c11 $san -Wall -Wextra -Wpedantic -Werror -I"$src/include" -I"$build/include" \
       "$f" -L"$(dirname "$lib")" -lgenmodel -o "$f.out" 2>"$f.log"; then
    echo "$(basename "$f"): does not compile cleanly:"; cat "$f.log"; exit 1
  fi
done
[ "$count" -ge 2 ] || { echo "expected at least 2 complete examples, found $count"; exit 1; }
echo "$count documented programs compile without warnings"
