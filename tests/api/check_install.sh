#!/bin/sh
# Install into a temporary root, then build and run a consumer with only
# what pkg-config says: once against the shared library, once statically.
# Usage: check_install.sh BUILD_DIR CONSUMER_C B_SANITIZE
set -eu
build=$1 consumer=$2 sanitize=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

DESTDIR="$tmp/root" meson install -C "$build" --no-rebuild --quiet
pc=$(find "$tmp/root" -name genmodel.pc | head -n 1)
[ -n "$pc" ] || { echo "genmodel.pc was not installed"; exit 1; }
libdir=$(dirname "$(dirname "$pc")")
prefix=$(PKG_CONFIG_PATH="$(dirname "$pc")" pkg-config --variable=prefix genmodel)
export PKG_CONFIG_PATH="$(dirname "$pc")"
pc_args="--define-variable=prefix=$tmp/root$prefix"

san=""
[ "$sanitize" = none ] || san="-fsanitize=$sanitize"

cc -std=c11 $san $(pkg-config $pc_args --cflags genmodel) "$consumer" \
   $(pkg-config $pc_args --libs genmodel) -o "$tmp/consumer-shared"
LD_LIBRARY_PATH="$libdir" "$tmp/consumer-shared"

static_libs=$(pkg-config $pc_args --static --libs genmodel | sed 's/-lgenmodel/-l:libgenmodel.a/')
cc -std=c11 $san $(pkg-config $pc_args --cflags genmodel) "$consumer" $static_libs -o "$tmp/consumer-static"
if ldd "$tmp/consumer-static" | grep -q libgenmodel; then
  echo "the static consumer still loads libgenmodel.so"; exit 1
fi
"$tmp/consumer-static"
