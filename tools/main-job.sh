#!/bin/sh
# The main job: install what is missing, build, then train a conv VAE and
# a DCGAN on Fashion-MNIST (docs/conv.md), print their metrics, and write
# sample grids (and the VAE's reconstructions) to out/. VAE_EPOCHS (5)
# and GAN_EPOCHS (4) set the length of training: about 10 minutes on 2
# cores.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh

[ -f build-release/build.ninja ] || meson setup build-release --buildtype=release -Dtests=disabled
ninja -C build-release
genmodel=build-release/examples/genmodel
mkdir -p out

echo "== conv VAE: conv 32 -> conv 64 -> z 20 and back, Bernoulli, Adam 1e-3, batch 128, ${VAE_EPOCHS:-5} epochs"
$genmodel vae train --conv 32,64 --hidden 0 --epochs "${VAE_EPOCHS:-5}" --out out/vae.safetensors
$genmodel vae eval out/vae.safetensors
$genmodel vae sample out/vae.safetensors -n 64 --png out/vae-samples.png --idx out/vae-samples.idx3
$genmodel vae reconstruct out/vae.safetensors -n 32 --png out/vae-reconstructions.png

echo "== DCGAN: G z64 -> 128x7x7 -> convT 64 -> convT 1, D conv 64 -> conv 128 -> 1, batch norm,"
echo "   the library's default losses and stabilisers, batch 64, ${GAN_EPOCHS:-4} epochs"
$genmodel gan train --conv 64,128 --gen-hidden "" --disc-hidden "" --gen-norm batch --disc-norm batch \
  --batch 64 --epochs "${GAN_EPOCHS:-4}" --out out/gan.safetensors
$genmodel gan sample out/gan.safetensors -n 100 --png out/gan-samples.png --idx out/gan-samples.idx3
$genmodel info out/gan.safetensors
echo "wrote out/vae-samples.png, out/vae-reconstructions.png, out/gan-samples.png and the samples as IDX"
