#!/bin/bash
# The benchmark in one command: bench/run.sh
#
# Builds build-bench (release, -Dbench=true), times our figures, their
# sgemm-only limit and PyTorch's in alternating rounds, measures the peak
# memory of one training epoch of each, and prints the markdown table of
# docs/performance.md (bench/report.py). The machine is shared and drifts
# (by a third within an hour), so each round runs ours and PyTorch's back to
# back and the table takes medians over rounds. The raw lines are kept in
# build-bench/bench-results.txt.
#
# BENCH_ROUNDS (default 5) and BENCH_SECONDS (time per figure and round,
# default 1.5) trade time for noise; the defaults take about 7 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${BENCH_ROUNDS:-5}
seconds=${BENCH_SECONDS:-1.5}
build=build-bench
py=/usr/bin/python3

[ -f $build/build.ninja ] || meson setup $build --buildtype=release -Dbench=true -Dtests=disabled
meson compile -C $build >/dev/null
bench=$build/bench/genmodel-bench

torch=yes
if ! $py -c 'import torch' 2>/dev/null; then
  torch=
  echo "PyTorch is missing (apt-get install python3-torch): only our figures are measured" >&2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

{
  $bench info
  for round in $(seq "$rounds"); do
    echo "round $round of $rounds" >&2
    for t in 1 2; do
      OPENBLAS_NUM_THREADS=$t $bench run --threads $t --seconds "$seconds"
      # torch's best setting on this machine: one intra-op thread, t OpenBLAS threads
      [ -z "$torch" ] || $py bench/torch_bench.py run --threads 1 --blas $t --seconds "$seconds"
    done
  done
  # what a user runs: load both splits, one epoch at batch 128, the test -ELBO, save
  if [ ! -d /usr/share/datasets/fashion-mnist ]; then
    echo "Fashion-MNIST is missing (apt-get install dataset-fashion-mnist): no peak memory" >&2
  else
    OPENBLAS_NUM_THREADS=1 $bench rss ours vae_train_rss batch=128 threads=1 -- \
      $build/examples/genmodel vae train --epochs 1 --threads 1 --out "$tmp/vae.safetensors"
    [ -z "$torch" ] || $bench rss torch vae_train_rss batch=128 threads=1 -- \
      $py bench/torch_bench.py train --threads 1 --out "$tmp/vae.pt"
  fi
} | tee $build/bench-results.txt
echo
$py bench/report.py $build/bench-results.txt
