#!/bin/bash
# Where a step's time goes: bench/profile.sh
#
# 1. The products against the rest, by the harness's own clock: a training
#    step of the reference VAE and GAN at batch 128 on 1 thread, on each
#    backend (genmodel-bench run --no-limit, GM_BACKEND), against the sum
#    of the step's products timed one by one (genmodel-bench run --products).
# 2. Each product of the step alone, on each backend: its shape, time and
#    GFLOP/s (genmodel-bench run --products).
# 3. With perf: a sampling profile (perf record -e cpu-clock, which needs
#    no hardware counters) of the same steps on the default backend on 1
#    and 2 threads and on OpenBLAS on 1, taken only while the harness
#    times (perf record --control: not the loading, not the warm-up), with
#    oneDNN's JIT kernels named (DNNL_JIT_PROFILE=2 writes a perf map);
#    the samples grouped by where they fall: the products (oneDNN,
#    OpenBLAS), the OpenMP runtime, each source file of lib/, the kernel,
#    libc and libm; and the hottest symbols.
# bench/profile.py renders the tables from the files this leaves in
# build-bench/profile/.
#
# BENCH_SECONDS (per measurement, default 5); about 3 minutes with it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${BENCH_SECONDS:-5}
build=build-bench
out=$build/profile

if [ -f $build/build.ninja ]; then
  meson setup --reconfigure $build >/dev/null
else
  meson setup $build --buildtype=release -Dbench=true -Dtests=disabled >/dev/null
fi
meson compile -C $build >/dev/null
bench=$(pwd)/$build/bench/genmodel-bench
rm -rf $out
mkdir -p $out

$bench info > $out/info.txt
backends=$(grep -q '^INFO onednn: not' $out/info.txt && echo openblas || echo onednn openblas)
default=$(sed -n 's/.*default backend \(.*\)$/\1/p' $out/info.txt)

echo "timing the steps and their products" >&2
for b in $backends; do
  for fig in vae_train gan_train; do
    GM_BACKEND=$b OPENBLAS_NUM_THREADS=1 $bench run --threads 1 --only $fig --batch 128 --no-limit \
      --seconds "$seconds" | sed "s/^RESULT /RESULT backend=$b /"
  done
done > $out/steps.txt
OPENBLAS_NUM_THREADS=1 $bench run --products --threads 1 --seconds "$seconds" > $out/products.txt

if ! perf record -q -e cpu-clock -o /dev/null true 2>/dev/null; then
  echo "perf cannot sample here (apt-get install linux-perf, or perf_event_paranoid): no profile" >&2
else
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkfifo $tmp/ctl $tmp/ack
  runs=("$default 1" "$default 2")
  [ "$default" = openblas ] || runs+=("openblas 1")
  for run in "${runs[@]}"; do
    set -- $run
    for fig in vae_train gan_train; do
      label=$fig-$1-$2
      echo "profiling $label" >&2
      # the shell records its pid and becomes the harness: the pid names oneDNN's perf map
      GM_BACKEND=$1 OPENBLAS_NUM_THREADS=$2 DNNL_JIT_PROFILE=2 GM_BENCH_PERF_CONTROL=$tmp/ctl,$tmp/ack \
        perf record -q -D -1 --control fifo:$tmp/ctl,$tmp/ack -e cpu-clock -F 1999 -o $tmp/perf.data -- \
        sh -c 'echo $$ > "$0"; exec "$@"' $tmp/pid \
        $bench run --threads $2 --only $fig --batch 128 --no-limit --seconds "$seconds" > /dev/null
      perf report -i $tmp/perf.data --stdio --no-children --sort dso,sym -t '|' 2>/dev/null > $out/$label.txt
      rm -f "/tmp/perf-$(cat $tmp/pid).map"
    done
  done
fi

/usr/bin/python3 bench/profile.py $out
