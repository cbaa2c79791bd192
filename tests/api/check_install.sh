#!/bin/sh
# Install into a temporary root, then build and run a consumer with only
# what pkg-config says, and again with only CMake's find_package: each
# once against the shared library, once statically. Without cmake, the
# CMake consumers are skipped (tools/install-deps.sh installs it).
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

# static_only EXE: runs EXE, which must not load libgenmodel.so
static_only() {
  if ldd "$1" | grep -q libgenmodel; then
    echo "$1 still loads libgenmodel.so"; exit 1
  fi
  "$1"
}

cc -std=c11 $san $(pkg-config $pc_args --cflags genmodel) "$consumer" \
   $(pkg-config $pc_args --libs genmodel) -o "$tmp/consumer-shared"
LD_LIBRARY_PATH="$libdir" "$tmp/consumer-shared"

static_libs=$(pkg-config $pc_args --static --libs genmodel | sed 's/-lgenmodel/-l:libgenmodel.a/')
cc -std=c11 $san $(pkg-config $pc_args --cflags genmodel) "$consumer" $static_libs -o "$tmp/consumer-static"
static_only "$tmp/consumer-static"

command -v cmake > /dev/null || { echo "no cmake: the CMake consumers are skipped"; exit 0; }
version=$(pkg-config --modversion genmodel)
mkdir "$tmp/cmake"
cat > "$tmp/cmake/CMakeLists.txt" << CMAKE
cmake_minimum_required(VERSION 3.13)
project(consumer C)
# a release of another major version is refused
find_package(genmodel 99 QUIET)
if(genmodel_FOUND)
  message(FATAL_ERROR "find_package(genmodel 99) took \${genmodel_VERSION}")
endif()
find_package(genmodel $version REQUIRED)
add_executable(consumer-shared "$consumer")
target_link_libraries(consumer-shared PRIVATE genmodel::genmodel)
add_executable(consumer-static "$consumer")
target_link_libraries(consumer-static PRIVATE genmodel::genmodel_static)
CMAKE
cmake -S "$tmp/cmake" -B "$tmp/cmake/build" -G Ninja -Wno-dev -DCMAKE_PREFIX_PATH="$tmp/root$prefix" \
  -DCMAKE_C_COMPILER=cc -DCMAKE_C_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="$san" > "$tmp/cmake/log" 2>&1 \
  && cmake --build "$tmp/cmake/build" >> "$tmp/cmake/log" 2>&1 \
  || { cat "$tmp/cmake/log"; echo "the CMake consumers do not build"; exit 1; }
# the library its run path names: the installed one
(unset LD_LIBRARY_PATH; "$tmp/cmake/build/consumer-shared")
static_only "$tmp/cmake/build/consumer-static"
