#!/bin/sh
# Resuming in a fresh process is exact (MLP and conv models): N epochs in one run and N-1, saved,
# then 1 more from the file in a new process, write byte-identical
# checkpoints (weights, Adam moments, steps and random state all agree).
# Trains on one class of Fashion-MNIST to stay quick; skips without it.
# Usage: test_resume.sh GENMODEL_TOOL
set -eu
tool=$1
data=/usr/share/datasets/fashion-mnist
[ -d "$data" ] || { echo "SKIP: no $data"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OPENBLAS_NUM_THREADS=1

check() {
  kind=$1; shift
  "$tool" "$kind" train --epochs 2 --class 3 "$@" --out "$tmp/straight" > /dev/null
  "$tool" "$kind" train --epochs 1 --class 3 "$@" --out "$tmp/first" > /dev/null
  "$tool" "$kind" train --epochs 1 --class 3 --resume "$tmp/first" --out "$tmp/resumed" > /dev/null
  if ! cmp -s "$tmp/straight" "$tmp/resumed"; then
    echo "FAIL: $kind $*: resumed training differs from straight training"
    exit 1
  fi
  echo "ok: $kind $*"
}

check vae
check vae --conditional
check gan --noise 0.1 --noise-steps 100 --ema 0.9
check gan --conditional --loss wgan-gp --n-critic 2
check gan --conv 4,8 --gen-hidden "" --disc-hidden "" --gen-norm batch --disc-norm spectral --minibatch-std 4 --loss ns
check vae --conv 4,8 --hidden 0 --normalization batch
