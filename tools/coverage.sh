#!/bin/sh
# Line and branch coverage of lib/ from every suite but fuzz: a debug build
# instrumented for gcov in build-coverage/, the suites run once from zero,
# then gcovr (Debian's) prints the totals, the files by untaken branches and
# the functions with the most of them, and writes an HTML report to
# build-coverage/coverage/index.html. Extra arguments go to meson setup.
# Exits non-zero when a test failed, after reporting what ran.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh gcovr

dir=build-coverage
if [ -f "$dir/build.ninja" ]; then
  meson configure "$dir" --buildtype=debug -Db_coverage=true -Dtests=enabled -Dfuzz=false "$@" >/dev/null
else
  meson setup "$dir" --buildtype=debug -Db_coverage=true -Dtests=enabled -Dfuzz=false "$@"
fi
ninja -C "$dir" -j2
# counts from this run only
find "$dir" -name '*.gcda' -delete
tests=0
meson test -C "$dir" --no-suite fuzz --num-processes 2 --print-errorlogs || tests=$?

report="$dir/coverage"
rm -rf "$report"
mkdir -p "$report"
echo "== coverage of lib/: files by untaken branches"
gcovr --root . --object-directory "$dir" --filter 'lib/' \
  --txt --branches --sort-uncovered --print-summary \
  --html-details "$report/index.html" --json "$report/coverage.json"

echo "== the functions with the most untaken branches"
/usr/bin/python3 - "$report/coverage.json" <<'EOF'
import json, sys
untaken = {}
for f in json.load(open(sys.argv[1]))["files"]:
    starts = sorted((fn["lineno"], fn["name"]) for fn in f.get("functions", []))
    for line in f["lines"]:
        owner = [name for lineno, name in starts if lineno <= line["line_number"]]
        key = (f["file"], owner[-1] if owner else "?")
        missed = sum(1 for b in line["branches"] if b["count"] == 0)
        total = untaken.setdefault(key, [0, 0])
        total[0] += missed
        total[1] += len(line["branches"])
rows = sorted(untaken.items(), key=lambda kv: -kv[1][0])
for (path, name), (missed, total) in rows[:20]:
    if missed:
        print(f"{missed:4d} of {total:4d} untaken  {path}: {name}")
EOF
echo "HTML report: $report/index.html"
exit "$tests"
