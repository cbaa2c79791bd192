#!/bin/sh
# Every allocation of the library goes through its allocator hook: no object
# but core/alloc.c (where the default hook calls malloc) may call the C
# library's allocator itself.
# Usage: check_allocations.sh INTERNAL_STATIC_LIBRARY
set -eu
direct=$(nm -A --undefined-only "$1" |
  awk '$NF ~ /^(malloc|calloc|realloc|free|strdup|strndup|posix_memalign|aligned_alloc|reallocarray)$/' |
  grep -v 'core_alloc\.c\.o' || true)
if [ -n "$direct" ]; then
  echo "these objects allocate behind the allocator hook's back:"
  echo "$direct"
  exit 1
fi
echo "only core/alloc.c calls the C allocator"
