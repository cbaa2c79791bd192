#!/bin/sh
# Data-parallel training with the genmodel tool under mpirun, on loopback
# TCP, 2 and 3 ranks (oversubscribed on a small machine), as root when the
# tests run as root:
# - N ranks at a global batch end where one process at that batch ends:
#   the same steps and random state exactly, the same weights to float
#   rounding (1e-5 + 1e-4 relative: each rank sums its own rows' gradients,
#   the reduction adds the ranks' sums, so a gradient's terms are added in
#   another order), and every rank the same model (the tool checks and says
#   so); VAE plain and conditional, GAN with n_critic 2, WGAN-GP, instance
#   noise and EMA;
# - only rank 0 prints and saves; a batch that does not split evenly is
#   refused; --resume works with another number of ranks;
# - a rank killed mid-run stops the others with an error, and the last
#   checkpoint still loads;
# - the Python example trains on 2 ranks through mpi4py.
# Skips (77) without mpirun or when the tool was built without MPI.
# Usage: test_mpi.sh GENMODEL_TOOL LIBGENMODEL SOURCE_ROOT
set -eu
tool=$1 library=$2 source=$3
command -v mpirun > /dev/null || { echo "SKIP: no mpirun"; exit 77; }
"$tool" --version | grep -q MPI || { echo "SKIP: genmodel was built without MPI"; exit 77; }
python3=/usr/bin/python3
[ -x "$python3" ] || python3=python3
"$python3" -c 'import numpy' 2> /dev/null || { echo "SKIP: the comparisons need python3-numpy"; exit 77; }

# under AddressSanitizer: OpenMPI's own allocations at exit are no leaks of ours
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
# OpenMPI refuses root unless told twice; loopback TCP stands for a network
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi() {
  np=$1; shift
  mpirun --allow-run-as-root --oversubscribe -np "$np" --mca btl tcp,self --mca btl_tcp_if_include lo \
    --mca oob_tcp_if_include lo "$@"
}
fail() { echo "FAIL: $*"; exit 1; }

# 96 rows of 16 values in [0, 1] and a label of 3 classes
awk 'BEGIN { srand(5); printf "a0"; for (j = 1; j < 16; j++) printf ",a%d", j; print ",label";
             for (i = 0; i < 96; i++) { for (j = 0; j < 16; j++) printf (j ? "," : "") "%.3f", rand();
                                        print "," (i % 3) } }' > "$tmp/d.csv"
data="--data $tmp/d.csv --label-column label --threads 1"

# same_model A B: the same steps, config and random state; weights and
# moments to float rounding
same_model() {
  "$python3" - "$1" "$2" << 'EOF'
import json, struct, sys
import numpy as np

def read(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    meta = {k: v for k, v in h.pop("__metadata__").items() if not k.startswith("gm.crc32")}
    start = 8 + n
    return meta, {k: np.frombuffer(b[start + v["data_offsets"][0]:start + v["data_offsets"][1]], "<f4")
                  for k, v in h.items()}

(ma, ta), (mb, tb) = read(sys.argv[1]), read(sys.argv[2])
if ma != mb:
    sys.exit("metadata differs: " + str({k: (ma.get(k), mb.get(k)) for k in set(ma) | set(mb) if ma.get(k) != mb.get(k)}))
for name in ta:
    a, b = ta[name], tb[name]
    if name.startswith("optim.v."):  # squares of gradients: compare their roots
        a, b = np.sqrt(a), np.sqrt(b)
    if name.startswith("latent."):
        # fitted on the trained model's posterior means: the precision is an
        # inverted covariance, which multiplies the weights' rounding by its
        # condition number; held to the tensor's own scale
        if np.max(np.abs(a - b)) > 1e-3 * max(np.max(np.abs(b)), 1e-30):
            sys.exit(f"{name}: off by {np.max(np.abs(a - b)):.3g} of {np.max(np.abs(b)):.3g}")
    elif not np.allclose(a, b, rtol=1e-4, atol=1e-5):
        sys.exit(f"{name}: off by {np.max(np.abs(a - b)):.3g}")
EOF
}

# check KIND NP OPTIONS...: NP ranks against one process, at batch 12
check() {
  kind=$1 np=$2; shift 2
  "$tool" "$kind" train $data --epochs 2 --batch 12 "$@" --out "$tmp/one" > "$tmp/one.log"
  mpi "$np" "$tool" "$kind" train $data --epochs 2 --batch 12 "$@" --out "$tmp/many" > "$tmp/many.log"
  same_model "$tmp/one" "$tmp/many" || fail "$kind on $np ranks ($*) differs from one process"
  grep -q "^$np ranks hold the same model" "$tmp/many.log" || fail "$kind on $np ranks: no agreement reported"
  [ "$(grep -c '^epoch   1/2' "$tmp/many.log")" = 1 ] || fail "$kind on $np ranks: not rank 0 alone printed"
  [ "$(ls "$tmp" | grep -c '^many')" = 2 ] || fail "$kind on $np ranks: other files than rank 0's checkpoint"
  echo "ok: $kind on $np ranks $*"
  rm -f "$tmp/many" "$tmp/many.log"
}

check vae 2
check vae 3
check vae 2 --conditional
# Adam's eps at 1e-4: a critic of piecewise-linear units (WGAN-GP's, the
# hinge loss's) has gradients that are zero in exact arithmetic, whose
# rounding residues Adam at eps 1e-8 turns into steps of about lr in the
# residue's sign (tests/models/test_data_parallel.c, docs/distributed.md)
eps="--gen-optim-eps 1e-4 --disc-optim-eps 1e-4 --gen-hidden 32 --disc-hidden 32"
wgan="--loss wgan-gp --n-critic 2 --noise 0.1 --noise-steps 100 --ema 0.9"
check gan 2 $wgan $eps
check gan 3 $wgan $eps
check gan 2 --conditional --n-critic 2 $eps

# a batch that does not split evenly across the ranks
if mpi 3 "$tool" vae train $data --epochs 1 --batch 10 --out "$tmp/odd" > "$tmp/odd.log" 2>&1; then
  fail "a batch of 10 on 3 ranks was accepted"
fi
grep -q "does not split evenly across 3 ranks" "$tmp/odd.log" || fail "no clear message for an uneven batch"
[ ! -e "$tmp/odd" ] || fail "an uneven batch left a checkpoint"
echo "ok: an uneven batch is refused"

# resume with another number of ranks: 1 epoch on 2 ranks, 1 more on 3,
# then on 1, against 2 and 3 epochs straight in one process
"$tool" vae train $data --epochs 2 --batch 12 --out "$tmp/straight2" > /dev/null
"$tool" vae train $data --epochs 3 --batch 12 --out "$tmp/straight3" > /dev/null
mpi 2 "$tool" vae train $data --epochs 1 --batch 12 --out "$tmp/first" > /dev/null
mpi 3 "$tool" vae train $data --epochs 1 --batch 12 --resume "$tmp/first" --out "$tmp/second" > /dev/null
same_model "$tmp/straight2" "$tmp/second" || fail "resumed on 3 ranks after 2 differs from one process"
"$tool" vae train $data --epochs 1 --batch 12 --resume "$tmp/second" --out "$tmp/third" > /dev/null
same_model "$tmp/straight3" "$tmp/third" || fail "resumed alone after 3 ranks differs from one process"
echo "ok: --resume across 2, 3 and 1 ranks"

# a rank killed mid-run: the others stop with an error; the last checkpoint loads
mpi 2 "$tool" vae train $data --epochs 1000000 --batch 12 --save-every 20 --out "$tmp/long" \
  > "$tmp/long.log" 2>&1 &
launcher=$!
waited=0
until [ -s "$tmp/long" ]; do
  sleep 0.2; waited=$((waited + 1))
  [ $waited -lt 300 ] || { kill $launcher; fail "no checkpoint after 60 s"; }
done
# the ranks: the processes training into $tmp/long, told their rank by mpirun
rank_pid() {
  for pid in $(pgrep -f "$tmp/long"); do
    if tr '\0' '\n' < "/proc/$pid/environ" 2> /dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then
      echo "$pid"
    fi
  done
}
victim=$(rank_pid 1) survivor=$(rank_pid 0)
[ -n "$victim" ] && [ -n "$survivor" ] || { kill $launcher; fail "the ranks' processes not found"; }
kill -9 $victim
status=0
waited=0
while kill -0 $launcher 2> /dev/null; do
  sleep 0.2; waited=$((waited + 1))
  [ $waited -lt 150 ] || { kill $launcher; fail "mpirun still running 30 s after a rank was killed"; }
done
wait $launcher || status=$?
[ $status -ne 0 ] || fail "the run ended well after a rank was killed"
# rank 0, blocked in a reduction, is ended by mpirun (a zombie counts as gone)
waited=0
while kill -0 $survivor 2> /dev/null && [ "$(awk '{ print $3 }' /proc/$survivor/stat 2> /dev/null)" != Z ]; do
  sleep 0.2; waited=$((waited + 1))
  [ $waited -lt 50 ] || { ps -o pid,stat,args -p $survivor; kill -9 $survivor; fail "rank 0 still runs 10 s after rank 1 was killed"; }
done
"$tool" info "$tmp/long" > /dev/null || fail "the last checkpoint does not load"
"$tool" vae sample "$tmp/long" -n 4 --png "$tmp/long.pgm" || fail "the last checkpoint does not sample"
echo "ok: a killed rank stops the run (mpirun status $status); the last checkpoint loads"

# the Python binding's example on 2 ranks through mpi4py
if ldd "$library" | grep -q libasan; then
  echo "skipped: the mpi4py example (a sanitizer build's library needs the python suite's preloading)"
elif "$python3" -c 'import mpi4py' 2> /dev/null; then
  export GENMODEL_LIBRARY="$library" PYTHONPATH="$source/bindings/python"
  mpi 2 -x GENMODEL_LIBRARY -x PYTHONPATH "$python3" "$source/bindings/python/examples/train_mpi.py" > "$tmp/py.log" ||
    { cat "$tmp/py.log"; fail "the mpi4py example"; }
  grep -q "2 ranks hold the same model" "$tmp/py.log" || { cat "$tmp/py.log"; fail "the mpi4py example's ranks differ"; }
  echo "ok: the mpi4py example on 2 ranks"
else
  echo "skipped: the mpi4py example (no python3-mpi4py)"
fi
