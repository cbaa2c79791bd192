#!/usr/bin/python3
"""Loading datasets: gm_dataset_open (through the Python binding) beside
numpy and PIL on the same files, in one run (docs/data.md).

    GENMODEL_LIBRARY=build-bench/lib/libgenmodel.so.0 bench/load_bench.py [--rounds R] [--dir DIR]

Writes into DIR (default: a temporary directory) the first 60,000 rows of
Fashion-MNIST's training set as a CSV table (784 pixels and a label
column, "%g" of pixel / 255), as NPY (uint8, (N, 28, 28)) and, for 10,000
of them, as a folder of PNG images per class; then times, in alternating
rounds, each reader against its peer:

    csv: Dataset.open(label_column=...) + gather  vs np.loadtxt(delimiter=",", skiprows=1)
         and np.genfromtxt is left out: slower still
    npy: Dataset.open + gather                    vs np.load (uint8) and / 255
    png: Dataset.open(folder) + gather            vs PIL.Image.open per file, np.asarray, stacked

Each RESULT line gives rows per second for both sides and the ratio (ours
over theirs), the median over rounds. gather (all rows as float32) is
counted on our side, so both sides end with the data as floats in memory.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python"))
import genmodel  # noqa: E402

FMNIST = "/usr/share/datasets/fashion-mnist"


def write_files(d, x, y, n_png):
    csv, npy, png = os.path.join(d, "train.csv"), os.path.join(d, "train.npy"), os.path.join(d, "png")
    if not os.path.exists(csv):
        header = ",".join([f"p{i}" for i in range(784)] + ["label"])
        np.savetxt(csv, np.c_[x.astype(np.float64) / 255, y], delimiter=",", header=header, comments="", fmt="%g")
    if not os.path.exists(npy):
        np.save(npy, x.reshape(-1, 28, 28))
    if not os.path.exists(png):
        genmodel.write_dataset(png, x[:n_png].reshape(-1, 28, 28) / np.float32(255), y[:n_png], format="png_dir")
    return csv, npy, png


def ours(path, **kw):
    with genmodel.Dataset.open(path, **kw) as ds:
        x, _ = ds.gather()
    return len(x)


def pil_folder(path):
    from PIL import Image
    rows = []
    for cls in sorted(os.listdir(path)):
        for name in sorted(os.listdir(os.path.join(path, cls))):
            with Image.open(os.path.join(path, cls, name)) as im:
                rows.append(np.asarray(im, dtype=np.uint8))
    return len(np.stack(rows).reshape(len(rows), -1).astype(np.float32) / np.float32(255))


def timed(fn):
    t0 = time.perf_counter()
    n = fn()
    return n / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--png", type=int, default=10000)
    args = ap.parse_args()
    x, y = genmodel.load_mnist(FMNIST, "train")
    x = np.round(x[:args.rows] * 255).astype(np.uint8)
    y = y[:args.rows]
    d = args.dir or tempfile.mkdtemp(prefix="gm-load-")
    os.makedirs(d, exist_ok=True)
    csv, npy, png = write_files(d, x, y, args.png)
    cases = {
        "csv": (lambda: ours(csv, label_column="label"),
                lambda: len(np.loadtxt(csv, delimiter=",", skiprows=1, dtype=np.float32)), "np.loadtxt"),
        "npy": (lambda: ours(npy), lambda: len(np.load(npy).astype(np.float32) / np.float32(255)), "np.load"),
        "png": (lambda: ours(png), lambda: pil_folder(png), "PIL"),
    }
    print(f"INFO genmodel {genmodel.__version__}, numpy {np.__version__}, files in {d}", flush=True)
    for name, (mine, theirs, peer) in cases.items():
        a, b = [], []
        for _ in range(args.rounds):
            a.append(timed(mine))
            b.append(timed(theirs))
        ra, rb = statistics.median(a), statistics.median(b)
        print(f"RESULT name=load_{name} rows={args.png if name == 'png' else args.rows} unit=rows/s "
              f"ours={ra:.0f} {peer.replace('.', '_')}={rb:.0f} ratio={ra / rb:.2f}", flush=True)


if __name__ == "__main__":
    main()
