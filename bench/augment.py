#!/usr/bin/python3
"""Does augmentation help? A small CNN classifier in PyTorch as the judge
(docs/augmentation.md):

    GENMODEL_LIBRARY=build-bench/lib/libgenmodel.so.0 bench/augment.py [--seeds 0,1,2] [--models ...]

Low data: per seed, 60 labelled training images of each Fashion-MNIST
class (600), picked at random. The classifier is trained on them alone,
then on them plus the samples of each conditional model trained on those
same 600 (--per-class generated images of each class), and tested on the
10,000 test images. Classification accuracy score (--cas; Ravuri and
Vinyals 2019): each model trained on all 60,000 images, the classifier
trained on 60,000 of its samples only, beside the classifier trained on
the real 60,000.

The classifier: conv3x3(16)-BN-ReLU-pool, conv3x3(32)-BN-ReLU-pool, dense
128, dense 10 (bench/gan_eval.py's), Adam 1e-3 decaying linearly to 0,
batch 64, a fixed number of steps (--steps) whatever the training set, so
that real-only and augmented runs get the same optimization; seeded.

Models (the library's defaults for everything not named; conditional on
the label):
    vae    MLP VAE, 784-400-20
    gan    MLP GAN, G 64-256-512-784, D 784-512-256-1
    cvae   conv VAE, conv 32,64 (docs/conv.md)
    dcgan  DCGAN, conv 64,128, batch norm in G and D, batch 64
Each trains for --model-samples samples (real ones for a GAN), however
many epochs of the 600 that is.

Prints one RESULT line per (seed, training set) with the test accuracy,
then a summary per training set: mean, min and max over seeds.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python"))
import genmodel  # noqa: E402

FMNIST = "/usr/share/datasets/fashion-mnist"

MODELS = {
    "vae": (genmodel.VAE, dict(), 128),
    "gan": (genmodel.GAN, dict(), 128),
    "cvae": (genmodel.VAE, dict(image_channels=1, image_height=28, image_width=28, conv_channels=(32, 64),
                                enc_hidden=(), dec_hidden=()), 128),
    "dcgan": (genmodel.GAN, dict(image_channels=1, image_height=28, image_width=28, conv_channels=(64, 128),
                                 gen_hidden=(), disc_hidden=(), gen_norm="batch", disc_norm="batch"), 64),
}


def import_torch(threads):
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    import torch
    torch.set_num_threads(threads)
    return torch


def classifier(torch):
    from torch import nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


class Stream:
    """Batches of one training set, reshuffled at each pass."""

    def __init__(self, torch, x, y, gen):
        self.torch, self.gen = torch, gen
        self.X = torch.from_numpy(x.reshape(-1, 1, 28, 28))
        self.Y = torch.from_numpy(y.astype(np.int64))
        self.perm, self.at = torch.randperm(len(self.X), generator=gen), 0

    def take(self, batch):
        if self.at + batch > len(self.X):
            self.perm, self.at = self.torch.randperm(len(self.X), generator=self.gen), 0
        idx = self.perm[self.at:self.at + batch]
        self.at += batch
        return self.X[idx], self.Y[idx]


def accuracy(torch, x, y, xt, yt, steps, seed, lr=1e-3, batch=64, x2=None, y2=None):
    """Test accuracy (%) of the classifier trained on (x, y) for `steps`
    steps; with (x2, y2), each batch half from each set."""
    import torch.nn.functional as F
    torch.manual_seed(seed)
    model = classifier(torch)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    first = Stream(torch, x, y, gen)
    second = Stream(torch, x2, y2, gen) if x2 is not None else None
    model.train()
    for step in range(steps):
        if second is None:
            X, Y = first.take(batch)
        else:
            (X1, Y1), (X2, Y2) = first.take(batch // 2), second.take(batch - batch // 2)
            X, Y = torch.cat([X1, X2]), torch.cat([Y1, Y2])
        for group in opt.param_groups:
            group["lr"] = lr * (1.0 - step / steps)
        loss = F.cross_entropy(model(X), Y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(torch.from_numpy(xt[i:i + 1000].reshape(-1, 1, 28, 28))).argmax(1)
                          for i in range(0, len(xt), 1000)])
    return 100.0 * float((pred.numpy() == yt).mean())


def generated(name, x, y, samples, per_class, seed):
    """per_class samples of each class from model `name` trained on (x, y)."""
    cls, extra, batch = MODELS[name]
    with cls(n_classes=10, seed=seed, **extra) as model:
        epochs = max(1, round(samples / len(x)))
        model.fit(x, epochs, labels=y, batch_size=batch)
        labels = np.repeat(np.arange(10, dtype=np.int32), per_class)
        return model.sample(len(labels), labels=labels), labels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--models", default="vae,gan,cvae,dcgan")
    ap.add_argument("--per-class-real", type=int, default=60)
    ap.add_argument("--per-class", type=int, default=600, help="generated images per class")
    ap.add_argument("--model-samples", type=int, default=120000, help="samples each model trains on")
    ap.add_argument("--steps", type=int, default=2000, help="classifier steps")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--balanced", action="store_true",
                    help="each classifier batch half real, half generated (else the sets pooled)")
    ap.add_argument("--cas", action="store_true", help="also the classification accuracy score")
    ap.add_argument("--cas-epochs", type=int, default=10)
    args = ap.parse_args()
    torch = import_torch(args.threads)
    genmodel.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    names = [m for m in args.models.split(",") if m]
    x_all, y_all = genmodel.load_mnist(FMNIST, "train")
    xt, yt = genmodel.load_mnist(FMNIST, "t10k")
    print(f"INFO genmodel {genmodel.__version__} torch {torch.__version__} threads {args.threads} "
          f"real {args.per_class_real}/class generated {args.per_class}/class model_samples {args.model_samples} "
          f"steps {args.steps} {'balanced' if args.balanced else 'pooled'}", flush=True)
    results = {}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        pick = np.concatenate([rng.choice(np.flatnonzero(y_all == c), args.per_class_real, replace=False)
                               for c in range(10)])
        x, y = x_all[pick], y_all[pick]
        for name in ["real"] + names:
            t0 = time.perf_counter()
            if name == "real":
                xs, ys = x, y
                acc = accuracy(torch, x, y, xt, yt, args.steps, seed)
            else:
                gx, gy = generated(name, x, y, args.model_samples, args.per_class, seed)
                xs, ys = np.concatenate([x, gx]), np.concatenate([y, gy])
                acc = accuracy(torch, x, y, xt, yt, args.steps, seed, x2=gx, y2=gy) if args.balanced else \
                    accuracy(torch, xs, ys, xt, yt, args.steps, seed)
            results.setdefault(name, []).append(acc)
            print(f"RESULT name=augment set={name} seed={seed} train_rows={len(xs)} test_acc={acc:.2f} "
                  f"seconds={time.perf_counter() - t0:.0f}", flush=True)
    for name, accs in results.items():
        print(f"RESULT name=augment_summary set={name} seeds={len(accs)} mean={statistics.mean(accs):.2f} "
              f"min={min(accs):.2f} max={max(accs):.2f}", flush=True)
    if args.cas:
        steps = args.steps * 5
        acc = accuracy(torch, x_all, y_all, xt, yt, steps, 0)
        print(f"RESULT name=cas set=real test_acc={acc:.2f}", flush=True)
        for name in names:
            gx, gy = generated(name, x_all, y_all, args.cas_epochs * len(x_all), len(x_all) // 10, 0)
            acc = accuracy(torch, gx, gy, xt, yt, steps, 0)
            print(f"RESULT name=cas set={name} test_acc={acc:.2f}", flush=True)


if __name__ == "__main__":
    main()
