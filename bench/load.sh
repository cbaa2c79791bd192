#!/bin/bash
# Threads under load: bench/load.sh
#
# An embedding application's machine is often busy. This times, on 1 and 2
# threads, the reference VAE's training step at batch 128 (samples/s) and
# the batch-1 reconstruction, and the issue's small call, gm_vae_iwae of one row on a tiny VAE (us per
# call), first on the machine as it is ("quiet"), then while one busy loop
# per core keeps every core busy ("loaded"); the loops are killed after
# each round. A 2-thread handle must not fall below a 1-thread one under
# load. Rounds alternate quiet and loaded so that both see the same drift;
# the summary gives medians over rounds, and the raw lines are kept in
# $build/load-results.txt.
#
# BENCH_ROUNDS (default 5), BENCH_SECONDS (per figure, default 2) and
# BENCH_K (the small call's draws, default 2000); BENCH_BUILD (default
# build-bench) measures another build, e.g. one of an older commit.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${BENCH_ROUNDS:-5}
seconds=${BENCH_SECONDS:-2}
k=${BENCH_K:-2000}
build=${BENCH_BUILD:-build-bench}

[ -f $build/build.ninja ] || meson setup $build --buildtype=release -Dbench=true -Dtests=disabled
meson compile -C $build >/dev/null
bench=$build/bench/genmodel-bench

loops=()
stop_loops() {
  if [ ${#loops[@]} -gt 0 ]; then
    kill "${loops[@]}" 2>/dev/null || true
    wait "${loops[@]}" 2>/dev/null || true
  fi
  loops=()
}
trap stop_loops EXIT
start_loops() {
  for _ in $(seq "$(nproc)"); do
    sh -c 'while :; do :; done' &
    loops+=($!)
  done
}

{
  $bench info
  for round in $(seq "$rounds"); do
    echo "round $round of $rounds" >&2
    for load in quiet loaded; do
      [ $load = quiet ] || start_loops
      for t in 1 2; do
        $bench run --threads $t --only vae_train --batch 128 --no-limit --seconds "$seconds"
        $bench run --threads $t --only vae_latency --no-limit --seconds "$seconds"
        $bench small --threads $t --k "$k" --seconds "$seconds"
      done | sed "s/^RESULT /RESULT load=$load /"
      stop_loops
    done
  done
} | tee $build/load-results.txt

/usr/bin/python3 - $build/load-results.txt <<'EOF'
import statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    words = line.split()
    if words[:1] == ["RESULT"]:
        f = dict(w.split("=", 1) for w in words[1:])
        runs[(f["name"], f["load"], f["threads"], f["unit"])].append(float(f["ours"]))
print("\n| figure | load | threads | median | range | rounds |\n|---|---|---:|---:|---:|---:|")
for (name, load, threads, unit), v in sorted(runs.items()):
    print(f"| {name} | {load} | {threads} | {statistics.median(v):,.1f} {unit} | {min(v):,.1f}–{max(v):,.1f} | {len(v)} |")
EOF
