#!/usr/bin/python3
"""The crops side by side for docs/super-resolution.md: a held-out
photograph downscaled x2 by bicubic (Pillow), upscaled back by bicubic, by
a pixel-loss model and by an adversarial one (genmodel sr apply), and the
original, each the same crop enlarged 3x with nearest neighbours so the
pixels show.

    sr_figure.py IMAGE PIXEL_MODEL ADV_MODEL OUT.png [--box X,Y,W,H]

GENMODEL names the tool (default: build-bench/examples/genmodel).
"""
import argparse
import os
import subprocess
import tempfile

from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.environ.get("GENMODEL", os.path.join(HERE, "..", "build-bench", "examples", "genmodel"))
ZOOM, GAP, LABEL = 3, 6, 16


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("image")
    ap.add_argument("pixel_model")
    ap.add_argument("adv_model")
    ap.add_argument("out")
    ap.add_argument("--box", default="100,60,96,72", help="the crop in the original: x,y,width,height")
    a = ap.parse_args()
    x, y, w, h = (int(v) for v in a.box.split(","))
    original = Image.open(a.image).convert("RGB")
    W, H = original.size[0] // 2 * 2, original.size[1] // 2 * 2
    original = original.crop((0, 0, W, H))
    small = original.resize((W // 2, H // 2), Image.BICUBIC)
    panels = [("bicubic", small.resize((W, H), Image.BICUBIC))]
    with tempfile.TemporaryDirectory() as tmp:
        small.save(f"{tmp}/small.png")
        for name, model in (("pixel loss (MSE)", a.pixel_model), ("adversarial", a.adv_model)):
            subprocess.run([TOOL, "sr", "apply", model, f"{tmp}/small.png", f"{tmp}/up.png"], check=True,
                           capture_output=True)
            panels.append((name, Image.open(f"{tmp}/up.png").convert("RGB")))
    panels.append(("original", original))
    cw, ch = w * ZOOM, h * ZOOM
    sheet = Image.new("RGB", (len(panels) * (cw + GAP) - GAP, ch + LABEL), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (name, img) in enumerate(panels):
        crop = img.crop((x, y, x + w, y + h)).resize((cw, ch), Image.NEAREST)
        sheet.paste(crop, (i * (cw + GAP), LABEL))
        draw.text((i * (cw + GAP) + 2, 2), name, fill="black")
    sheet.save(a.out)
    print(f"wrote {a.out}: {', '.join(n for n, _ in panels)}, crop {a.box} of {a.image}")


if __name__ == "__main__":
    main()
