#!/bin/bash
# Data-parallel speed on one machine: bench/scaling.sh
#
# Times `genmodel vae train` and `genmodel gan train` (the default MLP
# models) on Fashion-MNIST at global batch 128 and 512 in four settings:
#   1x1   one process, one thread
#   1x2   one process, two threads (the library's own team)
#   2x1   two ranks under mpirun, one thread each
#   half  one process, one thread, at half the batch: what one of the two
#         ranks computes in a step, so 2x1's step time less this one's is
#         what the data parallelism costs (the all-reduce and the waits)
# in alternating rounds (each round runs every setting once, back to back),
# and prints the markdown tables of docs/scaling.md: the measured ones
# (bench/scaling_report.py) and the model on paper of 8 to 512 workers
# (bench/scaling_model.py). The 2x1 runs carry a PMPI shim
# (bench/allreduce_time.c) that times the tool's MPI_Allreduce calls, and
# each round times the same all-reduce alone (bench/allreduce_bench.py).
# The raw lines are kept in build-scale/scaling-results.txt.
#
# Needs: mpirun and mpicc (openmpi-bin, libopenmpi-dev), python3-mpi4py,
# python3-numpy, dataset-fashion-mnist.
#
# BENCH_ROUNDS (default 3); BENCH_EPOCHS_VAE (default 4) and
# BENCH_EPOCHS_GAN (default 2) epochs per measurement, about 10-20 s each;
# BENCH_CLASS (default: all 60,000 rows) trains on one class's 6,000 rows,
# for a quick try. The defaults take about 12 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${BENCH_ROUNDS:-3}
epochs_vae=${BENCH_EPOCHS_VAE:-4}
epochs_gan=${BENCH_EPOCHS_GAN:-2}
class=()
[ -z "${BENCH_CLASS:-}" ] || class=(--class "$BENCH_CLASS")
build="build-scale"
py=/usr/bin/python3
data=/usr/share/datasets/fashion-mnist

missing=
command -v mpirun > /dev/null || missing="$missing openmpi-bin"
command -v mpicc > /dev/null || missing="$missing libopenmpi-dev"
$py -c 'import mpi4py, numpy' 2> /dev/null || missing="$missing python3-mpi4py python3-numpy"
[ -d $data ] || missing="$missing dataset-fashion-mnist"
if [ -n "$missing" ]; then
  echo "bench/scaling.sh needs:$missing (apt-get install -y$missing)" >&2
  exit 1
fi

if [ ! -f $build/build.ninja ]; then
  meson setup $build --buildtype=release -Dtests=disabled > /dev/null
fi
meson compile -C $build > /dev/null
tool=$build/examples/genmodel
$tool --version | grep -q MPI || { echo "bench/scaling.sh: $tool was built without MPI" >&2; exit 1; }
shim=$PWD/$build/allreduce_time.so
mpicc -O2 -shared -fPIC bench/allreduce_time.c -o "$shim"

# OpenMPI refuses root unless told twice. Two ranks on one machine talk
# through shared memory (OpenMPI's default) and are bound one to a core.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi() { mpirun --allow-run-as-root "$@"; }

out=$build/scaling-results.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# rate LOG: the samples/s of all the log's epochs together (each epoch has
# the same rows, so the harmonic mean of the epochs' figures)
rate() {
  awk '/samples\/s$/ { n++; s += 1 / $(NF - 1) } END { if (n) printf "%.1f", n / s; else exit 1 }' "$1"
}

# measure MODEL BATCH SETTING: one training run, its RESULT line(s)
measure() {
  model=$1 batch=$2 setting=$3
  epochs=$epochs_vae
  [ "$model" = vae ] || epochs=$epochs_gan
  args=("$model" train --data "$data" "${class[@]}" --epochs "$epochs" --out "$tmp/model")
  echo "INFO load: $(cut -d' ' -f1 /proc/loadavg)"
  case $setting in
    1x1) OPENBLAS_NUM_THREADS=1 $tool "${args[@]}" --batch "$batch" --threads 1 > "$tmp/log" 2> /dev/null ;;
    1x2) OPENBLAS_NUM_THREADS=2 $tool "${args[@]}" --batch "$batch" --threads 2 > "$tmp/log" 2> /dev/null ;;
    half) OPENBLAS_NUM_THREADS=1 $tool "${args[@]}" --batch $((batch / 2)) --threads 1 > "$tmp/log" 2> /dev/null ;;
    2x1) mpi -np 2 -x OPENBLAS_NUM_THREADS=1 -x LD_PRELOAD="$shim" \
           $tool "${args[@]}" --batch "$batch" --threads 1 > "$tmp/log" 2> "$tmp/err" ;;
  esac
  grep -q "samples/s$" "$tmp/log" || { cat "$tmp/log" "$tmp/err" >&2; echo "no figure from $setting" >&2; exit 1; }
  echo "RESULT name=scaling model=$model batch=$batch setting=$setting unit=samples/s value=$(rate "$tmp/log")"
  if [ "$setting" = 2x1 ]; then
    # the gradient all-reduces (the agreement check's counts of 1 left
    # out): ms per optimizer step on each rank; a GAN step makes two
    awk -v model="$model" -v batch="$batch" -v counts_file="$tmp/counts" '
      /^ALLREDUCE/ {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
        if (f["count"] <= 16) next
        r = f["rank"]; sec[r] += f["seconds"]; if (f["calls"] > steps[r]) steps[r] = f["calls"]
        counts[f["count"]] = 1
      }
      END {
        c = ""; for (k in counts) { c = c (c == "" ? "" : ",") k; print k >> counts_file }
        for (r in sec)
          printf "RESULT name=hook model=%s batch=%d rank=%d floats=%s unit=ms value=%.3f\n",
                 model, batch, r, c, 1e3 * sec[r] / steps[r]
      }' "$tmp/err"
  fi
}

{
  echo "INFO date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "INFO cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
  echo "INFO tool: $($tool --version)"
  echo "INFO mpi: $(mpirun --version | head -1)"
  for round in $(seq "$rounds"); do
    echo "round $round of $rounds" >&2
    for model in vae gan; do
      for batch in 128 512; do
        for setting in 1x1 1x2 2x1 half; do
          measure "$model" "$batch" "$setting"
        done
      done
    done
    # the same all-reduces alone: the counts the tool's hook reduced
    mapfile -t counts < <(sort -un "$tmp/counts")
    mpi -np 2 $py bench/allreduce_bench.py "${counts[@]}"
  done
} > $out
$py bench/scaling_report.py $out
echo
$py bench/scaling_model.py $out
