#!/bin/sh
# The public ABI against the baseline of its soname, checked in at the
# release as tests/api/abi/SONAME.abi and SONAME.enums.abi (docs/abi.md).
# abidw dumps the library, built anew as a debug build without options (a
# few seconds; a release build has no debug information to dump), over
# the public headers' types; a second dump holds every public enum, which
# the functions take as int32_t and so never name. abidiff compares each
# with its baseline and the test fails on any change left but additions:
# new functions, new enumerators, and members added at the end of a
# struct that starts with struct_size. Without a baseline of the soname
# (it was bumped since the release), nothing can break: a skip.
# Usage: check_abi.sh SOURCE_DIR            compare
#        check_abi.sh SOURCE_DIR --update   write the baselines (a release)
set -eu
src=$1 update=${2:-}
for tool in abidw abidiff cc; do
  command -v $tool > /dev/null || { echo "SKIP: no $tool (abidw and abidiff: Debian's abigail-tools)"; exit 77; }
done
py=$(command -v /usr/bin/python3 || command -v python3) || { echo "SKIP: no python3"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

meson setup "$tmp/build" "$src" --buildtype=debug -Dtests=disabled -Dexamples=false -Dpython=disabled \
  -Dbench=false -Donednn=disabled -Dpng=disabled > "$tmp/log" 2>&1 \
  && ninja -C "$tmp/build" -j 2 >> "$tmp/log" 2>&1 \
  || { cat "$tmp/log"; echo "FAIL: the library does not build"; exit 1; }
for h in "$src"/include/*.h "$src"/include/genmodel/*.h; do
  sed -n 's/^typedef enum \([a-z_0-9]*\) {$/\1 abi_\1;/p' "$h"
done | { echo '#include <genmodel.h>'; cat; } > "$tmp/enums.c"
cc -g -shared -fPIC -I"$src/include" "$tmp/enums.c" -o "$tmp/enums.so"

# public types only, no path of this machine, ids that stay put when a
# type is added
dump() {
  abidw --headers-dir "$src/include" --drop-private-types --no-corpus-path --no-comp-dir-path --short-locs \
    --no-elf-needed --type-id-style hash --out-file "$2" "$1"
}
dump "$tmp/build/lib/libgenmodel.so" "$tmp/new.abi"
dump "$tmp/enums.so" "$tmp/new.enums.abi"
soname=$(sed -n "s/^<abi-corpus .* soname='\([^']*\)'.*/\1/p" "$tmp/new.abi")
base=$src/tests/api/abi/$soname

if [ "$update" = --update ]; then
  mkdir -p "$(dirname "$base")"
  cp "$tmp/new.abi" "$base.abi"
  cp "$tmp/new.enums.abi" "$base.enums.abi"
  echo "wrote $base.abi and $base.enums.abi"
  exit 0
fi
[ -f "$base.abi" ] || { echo "SKIP: no baseline of $soname, a soname no release has had yet"; exit 77; }

# A struct that starts with struct_size grows at its end (docs/conventions.md):
# such a struct of the dump loses the members the baseline's lacks, and
# takes its size, so that what abidiff sees changed is only what was there.
"$py" - "$base.abi" "$tmp/new.abi" << 'PY'
import sys
import xml.etree.ElementTree as ET

def sized(root):
    """the structs whose first member is struct_size"""
    for c in root.iter("class-decl"):
        first = c.find("data-member/var-decl")
        if first is not None and first.get("name") == "struct_size":
            yield c

base, new = sys.argv[1:]
known = {c.get("name"): c for c in sized(ET.parse(base).getroot())}
tree = ET.parse(new)
for c in sized(tree.getroot()):
    old = known.get(c.get("name"))
    n = len(old.findall("data-member")) if old is not None else 0
    members = c.findall("data-member")
    if old is not None and len(members) > n:
        for m in members[n:]:
            c.remove(m)
        c.set("size-in-bits", old.get("size-in-bits"))
tree.write(new)
PY

# abidiff's status is a bit set: 1 an error, 2 a usage error, 4 a change,
# 8 a change known to break (a removed function); added functions and
# variables, left out of the report, and added enumerators do not count.
status=0
for dump in abi enums.abi; do
  abidiff --no-added-syms "$base.$dump" "$tmp/new.$dump" > "$tmp/diff" 2>&1 || status=$?
  [ "$status" -eq 0 ] || { cat "$tmp/diff"; break; }
done
[ "$status" -eq 0 ] || { echo "FAIL: abidiff's status $status: the ABI of $soname changed; keep it, or bump the soname (docs/abi.md)"; exit 1; }
echo "ok: the ABI of $soname holds against its baseline"
