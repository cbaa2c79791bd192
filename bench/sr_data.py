#!/usr/bin/python3
"""The photographs of the super-resolution benchmark (issue 17): scikit-image's
bundled sample photographs, written as 8-bit PNGs in a training folder and
a held-out test folder that bench/sr_torch.py and the C side both read.

    /usr/bin/python3 bench/sr_data.py OUT       writes OUT/train/NAME.png, OUT/test/NAME.png

Only real photographs, only files that ship with Debian's python3-skimage
(no network: a loader that would need pooch to download is an error, not a
fallback). Left out: synthetic images (logo, colorwheel, chessboard,
phantom, checkerboard, binary blobs), text (page, text), a silhouette
(horse), microscopy and medical images (cell, immunohistochemistry, retina,
microaneurysms), and the motion-blurred clock.

The split is fixed (no randomness), two grey and two colour images held out:

    test:  camera (grey 512x512), coins (grey 303x384),
           chelsea (colour 300x451), coffee (colour 400x600)
    train: astronaut (colour 512x512), rocket (colour 427x640),
           motorcycle_left (colour 500x741), hubble_deep_field
           (colour 872x1000), moon (grey 512x512), brick, grass, gravel
           (grey 512x512 texture photographs)

motorcycle_right, the other half of the stereo pair, is left out: nearly
the same picture as motorcycle_left.

Pixels are written as the loaders give them (RGB or grey, 8-bit); nothing
is resized or converted. Prints one line per image: split, name, size, mode.
"""
import os
import sys

import numpy as np
from PIL import Image

TRAIN = ["astronaut", "rocket", "motorcycle_left", "hubble_deep_field", "moon", "brick", "grass", "gravel"]
TEST = ["camera", "coins", "chelsea", "coffee"]


def load(name):
    """The image as uint8 (H, W) or (H, W, 3), from the files on disk only."""
    import skimage.data
    if name == "motorcycle_left":  # the left view of stereo_motorcycle's pair
        img = np.asarray(skimage.data.stereo_motorcycle()[0])
    else:
        img = np.asarray(getattr(skimage.data, name)())
    if img.dtype != np.uint8:
        raise SystemExit(f"sr_data: {name}: dtype {img.dtype}, expected uint8")
    if img.ndim == 3 and img.shape[2] == 4:  # an alpha plane: not expected on these
        raise SystemExit(f"sr_data: {name}: has an alpha plane")
    if not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3)):
        raise SystemExit(f"sr_data: {name}: shape {img.shape}")
    return img


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: sr_data.py OUT")
    out = sys.argv[1]
    for split, names in (("train", TRAIN), ("test", TEST)):
        os.makedirs(os.path.join(out, split), exist_ok=True)
        for name in names:
            img = load(name)
            Image.fromarray(img).save(os.path.join(out, split, name + ".png"))
            h, w = img.shape[:2]
            mode = "grey" if img.ndim == 2 else "rgb"
            print(f"{split:5s} {name:18s} {w:5d}x{h:<5d} {mode}", flush=True)


if __name__ == "__main__":
    main()
