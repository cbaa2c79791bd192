#!/usr/bin/python3
"""Train a VAE on Fashion-MNIST from numpy, then draw its losses and samples.

    GENMODEL_LIBRARY=build/lib/libgenmodel.so.0 PYTHONPATH=bindings/python \\
        /usr/bin/python3 bindings/python/examples/train_vae.py --epochs 5 --out out

Writes OUT/losses.png (train and test -ELBO per epoch), OUT/samples.png
(64 samples from the prior), OUT/reconstructions.png (test images, each row
followed by its reconstructions) and OUT/vae.safetensors. The pictures are
drawn with matplotlib when it is installed (Debian: python3-matplotlib) and
written by the library's own image-grid writer otherwise.
"""
import argparse
import os
import sys
from typing import List, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

import genmodel

try:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt
except ImportError:
    plt = None


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=genmodel.FASHION_MNIST_DIR, help="MNIST-family directory (%(default)s)")
    p.add_argument("--epochs", type=int, default=2, help="passes over the training set (%(default)s)")
    p.add_argument("--batch", type=int, default=128, help="samples per step (%(default)s)")
    p.add_argument("--latent", type=int, default=20, help="latent dimensions (%(default)s)")
    p.add_argument("--hidden", type=int, default=400, help="width of the hidden layers (%(default)s)")
    p.add_argument("--limit", type=int, default=0, help="train on the first N images only (0: all)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and every draw (%(default)s)")
    p.add_argument("--out", default="out", help="directory for the pictures and the model (%(default)s)")
    return p.parse_args()


def save_grid(path: str, images: npt.NDArray[np.float32], shape: Tuple[int, int], cols: int) -> str:
    """A grid of images, by matplotlib or else by the library (as PGM when
    it was built without PNG support). Returns the file written."""
    if plt is None:
        if not genmodel.have_png():
            path = os.path.splitext(path)[0] + ".pgm"
        genmodel.write_image_grid(path, images, *shape, cols=cols)
        return path
    rows = -(-len(images) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.8, rows * 0.8))
    for ax in axes.flat:
        ax.axis("off")
    for ax, image in zip(axes.flat, images):
        ax.imshow(image.reshape(shape), cmap="gray", vmin=0, vmax=1)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def save_losses(path: str, train: Sequence[float], test: Sequence[float]) -> Optional[str]:
    if plt is None:
        return None
    epochs = np.arange(1, len(train) + 1)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(epochs, train, "o-", label="train")
    ax.plot(epochs, test, "s-", label="test")
    ax.set_xlabel("epoch")
    ax.set_ylabel("-ELBO (nats per image)")
    ax.set_xticks(epochs)
    ax.legend()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def main() -> None:
    args = parse_args()
    os.makedirs(args.out, exist_ok=True)
    with genmodel.Dataset.load_dir(args.data, "train") as train, genmodel.Dataset.load_dir(args.data, "t10k") as test:
        count = min(args.limit, len(train)) if args.limit > 0 else len(train)
        x, _ = train.gather(np.arange(count))
        x_test, _ = test.gather()
        shape = train.shape
    print(f"{count} training images of {shape[0]}x{shape[1]}, {len(x_test)} test images")

    test_neg_elbo: List[float] = []

    def report(epoch: int, losses: genmodel.VAELosses) -> None:
        test_neg_elbo.append(-vae.elbo(x_test).mean())
        print(f"epoch {epoch:3d}/{args.epochs}  train -ELBO {losses.neg_elbo:8.3f}  "
              f"(recon {losses.recon:8.3f}, KL {losses.kl:6.3f})  test -ELBO {test_neg_elbo[-1]:8.3f}")

    with genmodel.VAE(input_dim=x.shape[1], latent_dim=args.latent, enc_hidden=(args.hidden,),
                      dec_hidden=(args.hidden,), seed=args.seed) as vae:
        history = vae.fit(x, args.epochs, batch_size=args.batch, callback=report)
        vae.save(os.path.join(args.out, "vae.safetensors"))
        samples = vae.sample(64)
        # up to 4 rows of 8 test images, each followed by its reconstructions
        cols = min(8, len(x_test))
        rows = min(4, len(x_test) // cols)
        originals = x_test[:rows * cols]
        pairs = np.concatenate([originals.reshape(rows, cols, -1),
                                vae.reconstruct(originals).reshape(rows, cols, -1)], axis=1)

    written: List[Optional[str]] = [
        save_losses(os.path.join(args.out, "losses.png"), [h.neg_elbo for h in history], test_neg_elbo),
        save_grid(os.path.join(args.out, "samples.png"), samples, shape, cols=8),
        save_grid(os.path.join(args.out, "reconstructions.png"), pairs.reshape(2 * rows * cols, -1), shape, cols),
        os.path.join(args.out, "vae.safetensors"),
    ]
    if plt is None:
        print("matplotlib is not installed: no loss plot", file=sys.stderr)
    print("wrote " + ", ".join(path for path in written if path))


if __name__ == "__main__":
    main()
