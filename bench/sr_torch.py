#!/usr/bin/python3
"""PyTorch's reference for the super-resolution model (issue 17): the ESPCN
the library's is measured against, trained and scored on the photographs
bench/sr_data.py writes. Debian's python3-torch, run with /usr/bin/python3.

What it measures
- Quality: PSNR and SSIM on the luminance Y of the held-out photographs
  (OUT/test), of the model and of the bicubic baseline, and the model's gain
  over bicubic (the target: >= +1.0 dB at x2).
- Training throughput: patches per second of the training steps alone
  (forward, backward, Adam), the batches' preparation timed apart and
  left out; the wall time of the whole loop is printed too.
- With --time-infer: the time of one upscale of a 512x512 Y image (batch 1,
  512x512 in, 1024x1024 out at x2) on 1 and on 2 threads, the median of
  several runs after a warm-up.

    sr_data.py DATA                                      the photographs, once
    sr_torch.py DATA --seconds 300 --threads 2           the issue's run (5 minutes)
    sr_torch.py DATA --steps 5000 --threads 1 --seed 3   a fixed number of steps
    sr_torch.py DATA --steps 50 --threads 1 --time-infer --json out.json
    sr_torch.py DATA --steps 0 --load espcn.pt           score a saved model
    sr_torch.py DATA --steps 0 --dump-patches p.npz --dump-batches 100
                                                         the first 100 batches, for the C side

The recipe
- Model: conv 5x5 (1 -> 64), tanh; conv 3x3 (64 -> 32), tanh; conv 3x3
  (32 -> scale^2); pixel shuffle. Zero "same" padding (k // 2), PyTorch's
  default initialisation, torch.manual_seed(SEED).
- Y as MATLAB's rgb2ycbcr (the super-resolution papers'): Y = (16 + 65.481 R
  + 128.553 G + 24.966 B) / 255 with R, G, B = bytes / 255, in float64, then
  float32; a grey image has R = G = B (Y = (16 + 219 v) / 255). Y is the
  model's input and target, in [0, 1], nothing subtracted.
- Bicubic: bicubic(y, w, h) below, Pillow's Image.resize(BICUBIC) on the
  float32 image (mode 'F', Pillow's float path: double weights, no
  rounding), then clamped to [0, 1]. lib/io/resample.h's
  gm_resample_bicubic is its C mirror (it clamps after each of its two
  passes instead). On these photographs no clamp acts: studio-range Y lies
  in [16/255, 235/255], its x2 downscales in [0.034, 0.962], the test
  images' bicubic round trips in [0.037, 0.975] (astronaut's, a training
  image, reaches 1.015, but only the test images are upscaled).
- A training batch (make_batch): numpy's default_rng(SEED), one stream for
  the whole run; for each of the 64 patches in turn, three draws:
  k = integers(n_images), r = integers(H_k - P + 1), c = integers(W_k - P + 1),
  P = 17 * scale; the HR patch is Y_k[r:r+P, c:c+P], its LR patch
  bicubic(HR patch, 17, 17). Images in sorted file-name order, picked
  uniformly. No augmentation.
- MSE (mean over the batch's pixels), Adam lr 1e-3 (betas 0.9, 0.999, eps 1e-8).
- --seconds T stops once the training steps (not the data preparation)
  have taken T seconds; --steps N after N steps.
- Evaluation, per test image: HR = Y cropped to a multiple of scale (the top
  left part kept); LR = bicubic(HR, W/s, H/s); SR = model(LR), the whole
  image at once, clamped to [0, 1]; baseline = bicubic(LR, W, H). PSNR
  (peak_signal_noise_ratio, data_range=1) and SSIM (structural_similarity,
  data_range=1, gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False) in float64 with `scale` pixels of border
  cropped on each side. Means are over images.

Threads: --threads K sets torch's intra-op threads and OpenBLAS's (fixed
before torch is imported; torch.set_num_threads does not reach OpenBLAS,
and the convolutions may run on it). --time-infer sets both at run time
(openblas_set_num_threads through ctypes). The timings mean something only
on an otherwise idle machine: with other work on the two cores, 2 threads
ran at an eighth of 1 thread's rate here (OpenMP's threads wait on each
other), and a --seconds run then trains that many fewer steps.
"""
import argparse
import ctypes
import glob
import json
import os
import statistics
import sys
import time

import numpy as np
from PIL import Image


# ---------------------------------------------------------------- data

def rgb2y(img):
    """uint8 (H, W) or (H, W, 3) -> float32 Y in [16/255, 235/255]."""
    x = img.astype(np.float64) / 255.0
    if x.ndim == 2:
        r = g = b = x
    else:
        r, g, b = x[:, :, 0], x[:, :, 1], x[:, :, 2]
    return ((16.0 + 65.481 * r + 128.553 * g + 24.966 * b) / 255.0).astype(np.float32)


def load_folder(folder):
    """[(name, Y)] for the folder's PNG/JPEG files, sorted by file name."""
    paths = sorted(p for p in glob.glob(os.path.join(folder, "*"))
                   if p.lower().endswith((".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")))
    if not paths:
        raise SystemExit(f"sr_torch: no images in {folder} (run bench/sr_data.py first)")
    out = []
    for p in paths:
        im = Image.open(p)
        if im.mode not in ("L", "RGB"):
            im = im.convert("RGB")
        out.append((os.path.splitext(os.path.basename(p))[0], rgb2y(np.asarray(im))))
    return out


def bicubic(y, w, h):
    """Pillow's bicubic resize of a float32 (H, W) image to (h, w), clamped to [0, 1]."""
    im = Image.fromarray(np.ascontiguousarray(y, dtype=np.float32), mode="F")
    out = np.asarray(im.resize((w, h), Image.BICUBIC), dtype=np.float32)
    return np.clip(out, 0.0, 1.0)


def make_batch(rng, images, batch, lr_size, scale):
    """(lr (B, l, l), hr (B, l*s, l*s), where (B, 3) = image index, row, col)."""
    p = lr_size * scale
    lr = np.empty((batch, lr_size, lr_size), np.float32)
    hr = np.empty((batch, p, p), np.float32)
    where = np.empty((batch, 3), np.int32)
    for i in range(batch):
        k = int(rng.integers(len(images)))
        y = images[k]
        r = int(rng.integers(y.shape[0] - p + 1))
        c = int(rng.integers(y.shape[1] - p + 1))
        hr[i] = y[r:r + p, c:c + p]
        lr[i] = bicubic(hr[i], lr_size, lr_size)
        where[i] = (k, r, c)
    return lr, hr, where


# ---------------------------------------------------------------- torch

def import_torch(threads):
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["MKL_NUM_THREADS"] = str(threads)
    import torch
    torch.set_num_threads(threads)
    return torch


def set_threads(torch, threads):
    """torch's intra-op threads and, if OpenBLAS is loaded, its threads."""
    torch.set_num_threads(threads)
    seen = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            if "openblas" in os.path.basename(path) and path not in seen:
                seen.add(path)
                try:
                    ctypes.CDLL(path).openblas_set_num_threads(threads)
                except (OSError, AttributeError):
                    pass


def make_model(torch, scale):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 64, 5, padding=2), nn.Tanh(),
        nn.Conv2d(64, 32, 3, padding=1), nn.Tanh(),
        nn.Conv2d(32, scale * scale, 3, padding=1),
        nn.PixelShuffle(scale),
    )


def evaluate(torch, model, tests, scale):
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity
    kw = dict(data_range=1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    b = scale
    rows = []
    model.eval()
    for name, y in tests:
        h, w = y.shape[0] - y.shape[0] % scale, y.shape[1] - y.shape[1] % scale
        hr = y[:h, :w]
        lr = bicubic(hr, w // scale, h // scale)
        base = bicubic(lr, w, h)
        with torch.no_grad():
            sr = model(torch.from_numpy(lr)[None, None]).clamp(0, 1)[0, 0].numpy()
        ref = hr[b:-b, b:-b].astype(np.float64)
        row = {"name": name, "width": w, "height": h}
        for key, img in (("bicubic", base), ("model", sr)):
            img = img[b:-b, b:-b].astype(np.float64)
            row[key + "_psnr"] = float(peak_signal_noise_ratio(ref, img, data_range=1))
            row[key + "_ssim"] = float(structural_similarity(ref, img, **kw))
        row["gain_db"] = row["model_psnr"] - row["bicubic_psnr"]
        rows.append(row)
    model.train()
    mean = {k: float(np.mean([r[k] for r in rows]))
            for k in ("bicubic_psnr", "bicubic_ssim", "model_psnr", "model_ssim", "gain_db")}
    return rows, mean


def time_infer(torch, model, scale, size, runs):
    """ms per upscale of one (size, size) Y image, batch 1: {threads: median}."""
    x = torch.from_numpy(np.random.default_rng(0).uniform(16 / 255, 235 / 255, (1, 1, size, size))
                         .astype(np.float32))
    out = {}
    model.eval()
    for threads in (1, 2):
        set_threads(torch, threads)
        times = []
        with torch.no_grad():
            for i in range(runs + 2):
                t = time.perf_counter()
                model(x)
                if i >= 2:
                    times.append((time.perf_counter() - t) * 1e3)
        out[threads] = {"median_ms": statistics.median(times), "min_ms": min(times), "runs": runs}
    model.train()
    return out


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", help="the folder sr_data.py wrote (train/, test/)")
    ap.add_argument("--scale", type=int, default=2)
    ap.add_argument("--steps", type=int, default=None, help="training steps (default: --seconds decides)")
    ap.add_argument("--seconds", type=float, default=None, help="training-step time budget")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--patch", type=int, default=17, help="LR patch side")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--save", metavar="PATH", help="write the state_dict there")
    ap.add_argument("--load", metavar="PATH", help="start from this state_dict")
    ap.add_argument("--json", metavar="PATH", help="write the figures there as JSON ('-': stdout)")
    ap.add_argument("--time-infer", action="store_true", help="time a 512x512 upscale on 1 and 2 threads")
    ap.add_argument("--infer-size", type=int, default=512)
    ap.add_argument("--infer-runs", type=int, default=7)
    ap.add_argument("--dump-patches", metavar="FILE.npz",
                    help="write the first --dump-batches training batches (lr, hr, where)")
    ap.add_argument("--dump-batches", type=int, default=16)
    ap.add_argument("--train-patches", metavar="FILE.npz",
                    help="train on these batches (a --dump-patches file), in order, cycled")
    ap.add_argument("--log-every", type=float, default=15.0, help="seconds between progress lines")
    a = ap.parse_args()
    if a.steps is None and a.seconds is None:
        a.steps = 1000
    if a.scale < 2 or a.threads < 1 or a.batch < 1 or a.patch < 1:
        ap.error("bad --scale, --threads, --batch or --patch")

    trains = load_folder(os.path.join(a.data, "train"))
    tests = load_folder(os.path.join(a.data, "test"))
    names = [n for n, _ in trains]
    images = [y for _, y in trains]
    p = a.patch * a.scale
    for n, y in trains:
        if min(y.shape) < p:
            raise SystemExit(f"sr_torch: training image {n} is smaller than {p}x{p}")
    print(f"train: {len(trains)} images ({', '.join(names)}); test: {', '.join(n for n, _ in tests)}")

    if a.dump_patches:
        rng = np.random.default_rng(a.seed)
        batches = [make_batch(rng, images, a.batch, a.patch, a.scale) for _ in range(a.dump_batches)]
        np.savez(a.dump_patches,
                 lr=np.stack([b[0] for b in batches]), hr=np.stack([b[1] for b in batches]),
                 where=np.stack([b[2] for b in batches]), images=np.array(names),
                 seed=a.seed, scale=a.scale)
        print(f"wrote {a.dump_patches}: {a.dump_batches} batches of {a.batch} "
              f"(lr {a.patch}x{a.patch}, hr {p}x{p})")

    fixed = None
    if a.train_patches:
        z = np.load(a.train_patches)
        fixed = (z["lr"], z["hr"])
        if fixed[0].shape[2:] != (a.patch, a.patch) or fixed[1].shape[2:] != (p, p):
            raise SystemExit("sr_torch: --train-patches: patch sizes do not match --patch/--scale")

    torch = import_torch(a.threads)
    torch.manual_seed(a.seed)
    model = make_model(torch, a.scale)
    if a.load:
        model.load_state_dict(torch.load(a.load))
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    mse = torch.nn.MSELoss()
    rng = np.random.default_rng(a.seed)

    step, t_train, t_data = 0, 0.0, 0.0
    curve, run_loss, run_n = [], 0.0, 0
    t_wall = time.perf_counter()
    t_log = t_wall
    while True:
        if a.steps is not None and step >= a.steps:
            break
        if a.seconds is not None and t_train >= a.seconds:
            break
        t0 = time.perf_counter()
        if fixed is not None:
            j = step % fixed[0].shape[0]
            lr_b, hr_b = fixed[0][j], fixed[1][j]
        else:
            lr_b, hr_b, _ = make_batch(rng, images, a.batch, a.patch, a.scale)
        x = torch.from_numpy(lr_b)[:, None]
        y = torch.from_numpy(hr_b)[:, None]
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = mse(model(x), y)
        loss.backward()
        opt.step()
        t2 = time.perf_counter()
        t_data += t1 - t0
        t_train += t2 - t1
        step += 1
        run_loss += loss.item()
        run_n += 1
        if t2 - t_log >= a.log_every:
            curve.append({"step": step, "train_seconds": t_train, "loss": run_loss / run_n})
            print(f"step {step:7d}  train {t_train:7.1f} s  loss {run_loss / run_n:.6f}  "
                  f"{step * a.batch / t_train:7.0f} patches/s", flush=True)
            run_loss, run_n, t_log = 0.0, 0, t2
    wall = time.perf_counter() - t_wall
    if run_n:
        curve.append({"step": step, "train_seconds": t_train, "loss": run_loss / run_n})
    pps = step * a.batch / t_train if t_train > 0 else 0.0
    print(f"trained {step} steps ({step * a.batch} patches) on {a.threads} thread(s): "
          f"training steps {t_train:.1f} s = {pps:.0f} patches/s; "
          f"data preparation {t_data:.1f} s (not counted); wall {wall:.1f} s")
    if a.save:
        torch.save(model.state_dict(), a.save)

    t = time.perf_counter()
    rows, mean = evaluate(torch, model, tests, a.scale)
    t_eval = time.perf_counter() - t
    print(f"\nx{a.scale}, Y channel, border {a.scale}:")
    print(f"{'image':18s} {'size':>9s}  {'bicubic PSNR':>12s} {'SSIM':>6s}  {'model PSNR':>10s} {'SSIM':>6s}  {'gain':>6s}")
    for r in rows:
        print(f"{r['name']:18s} {r['width']:4d}x{r['height']:<4d}  {r['bicubic_psnr']:12.3f} {r['bicubic_ssim']:6.4f}"
              f"  {r['model_psnr']:10.3f} {r['model_ssim']:6.4f}  {r['gain_db']:+6.3f}")
    print(f"{'mean':18s} {'':9s}  {mean['bicubic_psnr']:12.3f} {mean['bicubic_ssim']:6.4f}"
          f"  {mean['model_psnr']:10.3f} {mean['model_ssim']:6.4f}  {mean['gain_db']:+6.3f}")
    print(f"gain over bicubic: {mean['gain_db']:+.3f} dB PSNR, {mean['model_ssim'] - mean['bicubic_ssim']:+.4f} SSIM"
          f" (evaluation {t_eval:.1f} s)")

    infer = None
    if a.time_infer:
        infer = time_infer(torch, model, a.scale, a.infer_size, a.infer_runs)
        s = a.infer_size
        for k, v in infer.items():
            print(f"inference {s}x{s} -> {s * a.scale}x{s * a.scale}, batch 1, {k} thread(s): "
                  f"{v['median_ms']:.1f} ms (median of {v['runs']}, min {v['min_ms']:.1f})")
        set_threads(torch, a.threads)

    if a.json:
        import PIL
        import skimage
        doc = {
            "args": vars(a),
            "versions": {"torch": torch.__version__, "numpy": np.__version__,
                         "pillow": PIL.__version__, "skimage": skimage.__version__,
                         "mkldnn": bool(torch.backends.mkldnn.is_available())},
            "train_images": names, "test_images": [n for n, _ in tests],
            "steps": step, "patches": step * a.batch,
            "train_seconds": t_train, "data_seconds": t_data, "wall_seconds": wall,
            "patches_per_second": pps, "loss_curve": curve,
            "eval": {"per_image": rows, "mean": mean, "seconds": t_eval},
            "infer": None if infer is None else
                {"size": a.infer_size, "by_threads": {str(k): v for k, v in infer.items()}},
        }
        text = json.dumps(doc, indent=1)
        if a.json == "-":
            print(text)
        else:
            with open(a.json, "w") as f:
                f.write(text + "\n")


if __name__ == "__main__":
    main()
