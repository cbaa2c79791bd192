#!/bin/sh
# The main job: install what is missing, build, then train a VAE and a GAN
# on Fashion-MNIST, print their metrics, and write sample grids (and the
# VAE's reconstructions) to out/. VAE_EPOCHS (10) and GAN_EPOCHS (20) set
# the length of training.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh

[ -f build-release/build.ninja ] || meson setup build-release --buildtype=release -Dtests=disabled
ninja -C build-release
genmodel=build-release/examples/genmodel
mkdir -p out

echo "== VAE: 784-400-20, Bernoulli, Adam 1e-3, batch 128, ${VAE_EPOCHS:-10} epochs"
$genmodel vae train --epochs "${VAE_EPOCHS:-10}" --out out/vae.safetensors
$genmodel vae eval out/vae.safetensors
$genmodel vae sample out/vae.safetensors -n 64 --png out/vae-samples.png --idx out/vae-samples.idx3
$genmodel vae reconstruct out/vae.safetensors -n 32 --png out/vae-reconstructions.png

echo "== GAN: G 64-256-512-784, D 784-512-256-1, the library's default losses and stabilisers, ${GAN_EPOCHS:-20} epochs"
$genmodel gan train --epochs "${GAN_EPOCHS:-20}" --out out/gan.safetensors
$genmodel gan sample out/gan.safetensors -n 100 --png out/gan-samples.png --idx out/gan-samples.idx3
$genmodel info out/gan.safetensors
echo "wrote out/vae-samples.png, out/vae-reconstructions.png, out/gan-samples.png and the samples as IDX"
