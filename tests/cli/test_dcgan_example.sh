#!/bin/sh
# examples/dcgan.c builds and trains a DCGAN through the public API: on a
# made-up MNIST-format split of 192 noisy 28 x 28 images (three steps of
# 64), one epoch, then a grid of 100 samples.
# Usage: test_dcgan_example.sh DCGAN_EXAMPLE
set -eu
example=$1
py=$(command -v /usr/bin/python3 || command -v python3) || { echo "SKIP: no python3"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$py" - "$tmp" << 'PY'
import random, struct, sys
random.seed(0)
n, d = 192, sys.argv[1]
with open(f"{d}/train-images-idx3-ubyte", "wb") as f:
    f.write(struct.pack(">IIII", 0x803, n, 28, 28) + bytes(random.randrange(256) for _ in range(n * 784)))
with open(f"{d}/train-labels-idx1-ubyte", "wb") as f:
    f.write(struct.pack(">II", 0x801, n) + bytes(i % 10 for i in range(n)))
PY
"$example" 1 "$tmp" "$tmp/grid.png" > "$tmp/out"
grep -q "^epoch 1: D loss" "$tmp/out" || { echo "FAIL: $(cat "$tmp/out")"; exit 1; }
[ -s "$tmp/grid.png" ] || { echo "FAIL: no grid written"; exit 1; }
echo "ok: $(cat "$tmp/out")"
