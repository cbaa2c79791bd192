#!/bin/bash
# The benchmark in one command: bench/run.sh [--avx2]
#
# Builds build-bench (release, -Dbench=true), times our figures on the
# default backend and on OpenBLAS, the replay of their products on each
# backend (the faster is the limit) and PyTorch's figures in alternating
# rounds, measures the peak memory of one training epoch of each, and
# prints the markdown tables of docs/performance.md (bench/report.py). The
# machine is shared and drifts (by a third within an hour), so each round
# runs ours and PyTorch's back to back and the tables take medians over
# rounds. The raw lines are kept in build-bench/bench-results.txt.
#
# --avx2 checks the default backend on a CPU without AVX-512, as far as
# this one can pose as such: oneDNN capped at AVX2 (DNNL_MAX_CPU_ISA=AVX2)
# and OpenBLAS on its Haswell kernels (OPENBLAS_CORETYPE=Haswell), our
# figures and the replays only, no PyTorch and no peak memory; the lines
# go to build-bench/bench-avx2-results.txt. The backends' table then says
# whether the default backend is ever slower than OpenBLAS.
#
# Needs: libdnnl-dev (for the oneDNN backend; without it only OpenBLAS is
# measured, and the build says so), python3-torch and dataset-fashion-mnist
# (apt-get install them; the latter two are not needed with --avx2).
#
# BENCH_ROUNDS (default 5) and BENCH_SECONDS (time per figure and side,
# default 1.5) trade time for noise; the defaults take about 8 minutes,
# --avx2 about 6.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${BENCH_ROUNDS:-5}
seconds=${BENCH_SECONDS:-1.5}
build=build-bench
py=/usr/bin/python3
data=/usr/share/datasets/fashion-mnist

avx2=
case "${1:-}" in
  --avx2) avx2=yes ;;
  "") ;;
  *) echo "usage: bench/run.sh [--avx2]" >&2; exit 2 ;;
esac

if [ -z "$avx2" ]; then
  missing=
  $py -c 'import torch' 2>/dev/null || missing="$missing python3-torch"
  [ -d $data ] || missing="$missing dataset-fashion-mnist"
  if [ -n "$missing" ]; then
    echo "bench/run.sh needs:$missing (apt-get install -y$missing)" >&2
    exit 1
  fi
fi

# a build directory made before libdnnl-dev was installed would keep
# measuring OpenBLAS alone: the backends are looked for again each time
if [ -f $build/build.ninja ]; then
  meson setup --reconfigure $build >/dev/null
else
  meson setup $build --buildtype=release -Dbench=true -Dtests=disabled >/dev/null
fi
meson compile -C $build >/dev/null
bench=$build/bench/genmodel-bench

out=$build/bench-results.txt
if [ -n "$avx2" ]; then
  export DNNL_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell
  out=$build/bench-avx2-results.txt
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

{
  $bench info
  for round in $(seq "$rounds"); do
    echo "round $round of $rounds" >&2
    for t in 1 2; do
      OPENBLAS_NUM_THREADS=$t $bench run --threads $t --seconds "$seconds"
      # torch's best setting on this machine: for the MLPs one intra-op thread and t OpenBLAS
      # threads; for the conv models (oneDNN's convolutions, on the intra-op threads) t of those
      [ -n "$avx2" ] || $py bench/torch_bench.py run --threads 1 --blas $t --seconds "$seconds" \
        --only vae_train,gan_train,vae_infer,vae_latency
      [ -n "$avx2" ] || $py bench/torch_bench.py run --threads $t --seconds "$seconds" \
        --only dcgan_train,cvae_train,cvae_latency,cvae_score
    done
  done
  # what a user runs: load both splits, one epoch at batch 128, the test -ELBO, save
  if [ -z "$avx2" ]; then
    OPENBLAS_NUM_THREADS=1 $bench rss ours vae_train_rss batch=128 threads=1 -- \
      $build/examples/genmodel vae train --epochs 1 --threads 1 --out "$tmp/vae.safetensors"
    $bench rss torch vae_train_rss batch=128 threads=1 -- \
      $py bench/torch_bench.py train --threads 1 --out "$tmp/vae.pt"
  fi
} | tee $out
echo
$py bench/report.py $out
