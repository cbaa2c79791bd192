#!/bin/sh
# A project that vendors libgenmodel as subprojects/genmodel gets it from
# dependency('genmodel') (meson.override_dependency in lib/meson.build):
# such a consumer, set up, built and run. The subproject is a copy of the
# files git knows (a link to the tree outside git), and builds the library
# alone: its tests, examples, binding tests and benchmarks off.
# Usage: check_subproject.sh SOURCE_DIR CONSUMER_C B_SANITIZE
set -eu
src=$1 consumer=$2 sanitize=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/app/subprojects/genmodel"
if git -C "$src" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
  git -C "$src" ls-files --cached --others --exclude-standard \
    | tar -C "$src" -cf - -T - | tar -C "$tmp/app/subprojects/genmodel" -xf -
else
  rmdir "$tmp/app/subprojects/genmodel"
  ln -s "$(cd "$src" && pwd)" "$tmp/app/subprojects/genmodel"
fi
cp "$consumer" "$tmp/app/consumer.c"
cat > "$tmp/app/meson.build" << 'MESON'
project('consumer', 'c', default_options: ['c_std=c11'])
executable('consumer', 'consumer.c', dependencies: dependency('genmodel', version: '>= 0.2'))
MESON

# the subproject even where a libgenmodel is installed
meson setup "$tmp/app/build" "$tmp/app" --force-fallback-for=genmodel -Dwrap_mode=nodownload \
  -Db_sanitize="$sanitize" -Db_lundef=false \
  -Dgenmodel:tests=disabled -Dgenmodel:examples=false -Dgenmodel:python=disabled -Dgenmodel:bench=false \
  > "$tmp/log" 2>&1 && ninja -C "$tmp/app/build" -j 2 >> "$tmp/log" 2>&1 \
  || { cat "$tmp/log"; echo "FAIL: the consumer of the subproject does not build"; exit 1; }
# the subproject's library, which its run path names, not the build's
(unset LD_LIBRARY_PATH; "$tmp/app/build/consumer")
