#!/bin/sh
# The main job: install what is missing, build, then train a VAE on
# Fashion-MNIST, print its metrics, and write sample and reconstruction
# grids to out/. EPOCHS (default 10) sets the length of training.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh

[ -f build-release/build.ninja ] || meson setup build-release --buildtype=release -Dtests=disabled
ninja -C build-release
genmodel=build-release/examples/genmodel
mkdir -p out

echo "== VAE: 784-400-20, Bernoulli, Adam 1e-3, batch 128, ${EPOCHS:-10} epochs"
$genmodel vae train --epochs "${EPOCHS:-10}" --out out/vae.safetensors
$genmodel vae eval out/vae.safetensors
$genmodel vae sample out/vae.safetensors -n 64 --png out/vae-samples.png --idx out/vae-samples.idx3
$genmodel vae reconstruct out/vae.safetensors -n 32 --png out/vae-reconstructions.png
echo "wrote out/vae-samples.png, out/vae-reconstructions.png, out/vae-samples.idx3"
