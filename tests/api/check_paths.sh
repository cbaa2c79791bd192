#!/bin/sh
# No tracked file names a path of the machine it was written on.
# Flagged: a path under a home or a workspace (/home/, /root/, /Users/,
# /work/, /mnt/, /media/), wherever it appears, and a fixed name under
# /tmp/ (take a directory from mktemp, or TMPDIR). Not flagged: the
# system's own paths (/usr/bin/python3, /usr/share/datasets, /dev/null,
# /proc/self, /etc/...), URLs (the scheme's // does not start a match),
# and the allowed list below. Refer to what lives beside the repository
# relatively (../shared/reference) or through an environment variable.
# Usage: check_paths.sh SOURCE_DIR
set -eu
src=$1
command -v git > /dev/null && git -C "$src" rev-parse --is-inside-work-tree > /dev/null 2>&1 \
  || { echo "SKIP: $src is not a git work tree"; exit 77; }

# a path starts after a character that cannot end a word of a path or URL
pattern='(^|[^A-Za-z0-9_.~:/-])(/(home|root|Users|work|mnt|media)/|/tmp/[A-Za-z0-9_])'
# file:text fixed by others, each with its reason:
#   perf writes a JIT map of process PID to /tmp/perf-PID.map, whatever TMPDIR says
allowed='^bench/profile.sh:.*"/tmp/perf-'

# git grep reads the tracked files (binary ones skipped: -I)
hits=$(git -C "$src" grep -nIE "$pattern" -- . ':!tests/api/check_paths.sh' | grep -vE "$allowed" || true)
if [ -n "$hits" ]; then
  echo "FAIL: absolute paths of a machine in tracked files (see tests/api/check_paths.sh):"
  echo "$hits"
  exit 1
fi
echo "ok: no tracked file names a machine's path"
