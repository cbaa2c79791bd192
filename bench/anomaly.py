#!/usr/bin/python3
"""Anomaly detection, the one-class protocol on Fashion-MNIST
(docs/anomaly.md): for each class, a model trained on that class's
training images scores the 10,000 test images, and the class's AUROC
(the others are the anomalies) is the chance that a random anomaly scores
above a random normal image.

    GENMODEL_LIBRARY=build-bench/lib/libgenmodel.so.0 bench/anomaly.py [--model vae|cvae] [--epochs E]
    GENMODEL_LIBRARY=build-bench/lib/libgenmodel.so.0 bench/anomaly.py --table [--seeds 5]

--summarize LOG...: the table of docs/anomaly.md from the RESULT lines of
runs (a log per model and seed).

--table: the tabular case, the Wisconsin breast cancer table scikit-learn
ships (python3-sklearn: 569 rows of 30 measurements, 357 benign and 212
malignant tumours). A Gaussian VAE that standardizes its columns trains
on two thirds of the benign rows; the other benign third and every
malignant row are scored, the malignant ones being the anomalies; one
random split per seed. Peers on the standardized columns, as above.

Scores: every kind of VAE.score (gm_score_kind), and the peers on raw
pixels: the mean distance to the 5 nearest training images of the class
(numpy), and scikit-learn's IsolationForest when python3-sklearn is
installed. Prints a RESULT line per (class, score) and a summary per
score: the mean AUROC over the classes and the lowest.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python"))
import genmodel  # noqa: E402

FMNIST = "/usr/share/datasets/fashion-mnist"
CLASSES = ["tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"]


def auroc(scores, anomalous):
    """P(score of an anomaly > score of a normal row), ties counting half."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    s = scores[order]
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    pos, neg = anomalous.sum(), (~anomalous).sum()
    return (ranks[anomalous].sum() - pos * (pos + 1) / 2) / (pos * neg)


def knn_scores(train, test, k=5, chunk=1000):
    """Mean Euclidean distance to the k nearest training rows."""
    t2 = (train.astype(np.float64) ** 2).sum(1)
    out = np.empty(len(test))
    for i in range(0, len(test), chunk):
        q = test[i:i + chunk].astype(np.float64)
        d2 = (q ** 2).sum(1)[:, None] + t2[None, :] - 2 * q @ train.T.astype(np.float64)
        part = np.partition(np.maximum(d2, 0), k, axis=1)[:, :k]
        out[i:i + chunk] = np.sqrt(part).mean(1)
    return out


def model_for(name, seed):
    if name == "cvae":
        return genmodel.VAE(image_channels=1, image_height=28, image_width=28, conv_channels=(32, 64),
                            enc_hidden=(), dec_hidden=(), seed=seed)
    return genmodel.VAE(seed=seed)


BREAST_CANCER = "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv"


def table_case(args):
    # its first line is not a header but "569,30,malignant,benign": skip it
    data = np.loadtxt(BREAST_CANCER, delimiter=",", skiprows=1)
    x, benign = data[:, :30].astype(np.float32), data[:, 30] == 1
    try:
        from sklearn.ensemble import IsolationForest
    except ImportError:
        IsolationForest = None
    results = {}
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        rows = rng.permutation(np.flatnonzero(benign))
        train, normal = rows[:len(rows) * 2 // 3], rows[len(rows) * 2 // 3:]
        test = np.r_[normal, np.flatnonzero(~benign)]
        anomalous = ~benign[test]
        with genmodel.VAE(input_dim=30, latent_dim=4, enc_hidden=(64,), dec_hidden=(64,), likelihood="gaussian",
                          standardize=1, seed=seed) as vae:
            vae.fit(x[train], args.epochs, batch_size=32)
            vae.fit_latent(x[train])
            scores = {kind: vae.score(x[test], args.draws, kind=kind) for kind in vae.SCORE_KINDS
                      if kind != "complexity"}  # a compressed length of pixels: not for tables
        mean, sd = x[train].mean(0), x[train].std(0)
        scores["knn5_standardized"] = knn_scores((x[train] - mean) / sd, (x[test] - mean) / sd)
        if IsolationForest is not None:
            scores["isolation_forest"] = -IsolationForest(random_state=seed).fit(x[train]).score_samples(x[test])
        for kind, v in scores.items():
            a = auroc(np.asarray(v, np.float64), anomalous)
            results.setdefault(kind, []).append(a)
            print(f"RESULT name=table seed={seed} score={kind} auroc={a:.4f}", flush=True)
    for kind, v in results.items():
        print(f"RESULT name=table_summary score={kind} seeds={len(v)} mean_auroc={np.mean(v):.4f} "
              f"min_auroc={np.min(v):.4f} max_auroc={np.max(v):.4f}", flush=True)


def summarize(paths):
    """The markdown table of docs/anomaly.md from the RESULT lines of runs
    (one log per seed, any models): per class the mean AUROC over seeds,
    then the mean over classes with its range over seeds and the lowest
    class."""
    import re
    auc = {}  # (model, score) -> {seed-file: {class: auroc}}
    for path in paths:
        for line in open(path):
            m = re.match(r"RESULT name=one_class model=(\S+) class=(\d+) \(\S+\) score=(\S+) auroc=(\S+)", line)
            if m:
                auc.setdefault((m[1], m[3]), {}).setdefault(path, {})[int(m[2])] = float(m[4])
    print("| model | score | " + " | ".join(CLASSES) + " | mean (range over seeds) | lowest class | seeds |")
    print("|---|---|" + "---:|" * (len(CLASSES) + 3))
    for (model, score), runs in auc.items():
        runs = [r for r in runs.values() if len(r) == len(CLASSES)]
        if not runs:
            continue
        per_class = np.mean([[r[c] for c in range(len(CLASSES))] for r in runs], axis=0)
        means = [np.mean(list(r.values())) for r in runs]
        print(f"| {model} | {score} | " + " | ".join(f"{v:.3f}" for v in per_class) +
              f" | {np.mean(means):.3f} ({min(means):.3f}-{max(means):.3f}) | {per_class.min():.3f} | {len(runs)} |")


def main():
    if sys.argv[1:2] == ["--summarize"]:
        return summarize(sys.argv[2:])
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["vae", "cvae"], default="vae")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--draws", type=int, default=10)
    ap.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0, help="score only the first N test images")
    ap.add_argument("--table", action="store_true", help="the tabular case instead (breast cancer)")
    ap.add_argument("--seeds", type=int, default=5, help="--table: random splits")
    args = ap.parse_args()
    genmodel.set_num_threads(args.threads)
    if args.table:
        return table_case(args)
    x, y = genmodel.load_mnist(FMNIST, "train")
    xt, yt = genmodel.load_mnist(FMNIST, "t10k")
    if args.limit:
        xt, yt = xt[:args.limit], yt[:args.limit]
    try:
        from sklearn.ensemble import IsolationForest
    except ImportError:
        IsolationForest = None
        print("INFO no scikit-learn (python3-sklearn): IsolationForest left out", flush=True)
    results = {}
    for c in [int(v) for v in args.classes.split(",")]:
        normal = x[y == c]
        anomalous = yt != c
        t0 = time.perf_counter()
        with model_for(args.model, args.seed) as vae:
            vae.fit(normal, args.epochs)
            vae.fit_latent(normal)
            scores = {kind: vae.score(xt, args.draws, kind=kind) for kind in vae.SCORE_KINDS}
        scores["knn5_pixels"] = knn_scores(normal, xt)
        if IsolationForest is not None:
            forest = IsolationForest(random_state=args.seed).fit(normal)
            scores["isolation_forest"] = -forest.score_samples(xt)
        for kind, s in scores.items():
            a = auroc(np.asarray(s, np.float64), anomalous)
            results.setdefault(kind, []).append(a)
            print(f"RESULT name=one_class model={args.model} class={c} ({CLASSES[c]}) score={kind} auroc={a:.4f}",
                  flush=True)
        print(f"INFO class {c} took {time.perf_counter() - t0:.0f}s", flush=True)
    for kind, v in results.items():
        print(f"RESULT name=one_class_summary model={args.model} score={kind} classes={len(v)} "
              f"mean_auroc={np.mean(v):.4f} min_auroc={np.min(v):.4f}", flush=True)


if __name__ == "__main__":
    main()
