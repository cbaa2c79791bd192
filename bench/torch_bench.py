#!/usr/bin/python3
"""PyTorch's side of the benchmark: the figures genmodel-bench times, on the
same shapes and the same data, with the models and training loops of the
reference runs (../shared/reference from the repository's root:
common.make_vae and make_gan, the loops of vae_bench.py and gan_bench.py).
Debian's python3-torch, run with /usr/bin/python3.

    torch_bench.py run --threads 1 --blas 2 [--seconds S]   timed figures, as RESULT lines
    torch_bench.py train --threads 1 --out PATH             the peak-memory workload: what
                                                            `genmodel vae train --epochs 1` does

--threads sets torch's intra-op threads and --blas OpenBLAS's (default: the
same). torch.set_num_threads does not reach OpenBLAS, which runs nn.Linear
here, so both are fixed before torch is imported.
"""
import argparse
import gzip
import os
import statistics
import sys
import time

DATA = "/usr/share/datasets/fashion-mnist"
POOL = 16384  # as genmodel-bench: the first rows of the training set, cycled through


def import_torch(threads, blas):
    os.environ["OPENBLAS_NUM_THREADS"] = str(blas)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["MKL_NUM_THREADS"] = str(threads)
    import torch
    torch.set_num_threads(threads)
    return torch


def load_images(torch, data, split, count=None):
    """(n, 784) float32 in [0, 1] from an IDX file, gzipped or not; None if absent."""
    import numpy as np
    for path in (f"{data}/{split}-images-idx3-ubyte", f"{data}/{split}-images-idx3-ubyte.gz"):
        if os.path.exists(path):
            with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
                raw = f.read()
            n = int.from_bytes(raw[4:8], "big")
            pixels = np.frombuffer(raw, np.uint8, offset=16).reshape(n, 784)[:count]
            return torch.from_numpy(pixels.astype(np.float32) / 255.0)
    return None


# ---- the reference models (common.make_vae, common.make_gan) ----

def make_vae(torch):
    from torch import nn
    import torch.nn.functional as F

    class VAE(nn.Module):
        """784-400-(20 mu, 20 logvar) / 20-400-784, as pytorch/examples."""
        def __init__(self):
            super().__init__()
            self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
            self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)

        def encode(self, x):
            h = F.relu(self.fc1(x))
            return self.fc21(h), self.fc22(h)

        def decode_logits(self, z):
            return self.fc4(F.relu(self.fc3(z)))

        def decode(self, z):
            return torch.sigmoid(self.decode_logits(z))

        def forward(self, x):
            mu, logvar = self.encode(x)
            return self.decode(mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)), mu, logvar

    return VAE()


def vae_loss(torch, recon, x, mu, logvar):
    """the batch's sum of BCE over pixels plus KL, as the reference trains"""
    import torch.nn.functional as F
    bce = F.binary_cross_entropy(recon, x, reduction="sum")
    return bce - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())


def make_gan(torch):
    from torch import nn
    G = nn.Sequential(nn.Linear(64, 256), nn.LeakyReLU(0.2), nn.Linear(256, 512), nn.LeakyReLU(0.2),
                      nn.Linear(512, 784), nn.Sigmoid())
    D = nn.Sequential(nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256), nn.LeakyReLU(0.2),
                      nn.Linear(256, 1))
    return G, D


def make_dcgan(torch):
    """conv_bench.py's DCGAN"""
    from torch import nn

    class Reshape(nn.Module):
        def __init__(self, *shape):
            super().__init__()
            self.shape = shape

        def forward(self, x):
            return x.view(x.shape[0], *self.shape)

    G = nn.Sequential(nn.Linear(64, 6272), nn.BatchNorm1d(6272), nn.ReLU(), Reshape(128, 7, 7),
                      nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
                      nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Sigmoid())
    D = nn.Sequential(Reshape(1, 28, 28), nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
                      nn.Flatten(), nn.Linear(6272, 1))
    return G, D


def make_cvae(torch):
    """conv_bench.py's conv VAE, with make_vae's interface"""
    from torch import nn

    class CVAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(),
                                     nn.Flatten(), nn.Linear(3136, 40))
            self.dec1 = nn.Sequential(nn.Linear(20, 3136), nn.ReLU())
            self.dec2 = nn.Sequential(nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
                                      nn.ConvTranspose2d(32, 1, 4, 2, 1))

        def encode(self, x):
            h = self.enc(x.view(-1, 1, 28, 28))
            return h[:, :20], h[:, 20:]

        def decode_logits(self, z):
            return self.dec2(self.dec1(z).view(-1, 64, 7, 7)).view(-1, 784)

        def decode(self, z):
            return torch.sigmoid(self.decode_logits(z))

        def forward(self, x):
            mu, logvar = self.encode(x)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            return self.decode(z), mu, logvar
    return CVAE()


# ---- one call of each figure ----

def batches(pool, N):
    """the next N rows of the pool, wrapping, as genmodel-bench cycles them"""
    while True:
        for at in range(0, pool.shape[0] - N + 1, N):
            yield pool[at:at + N]


def vae_train_step(torch, pool, N, make=None):
    model = (make or make_vae)(torch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = batches(pool, N)

    def step():  # the body of vae_bench.py's loop
        x = next(data)
        recon, mu, logvar = model(x)
        loss = vae_loss(torch, recon, x, mu, logvar)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss.item()
    return step


def gan_train_step(torch, pool, N, make=None):
    import torch.nn.functional as F
    G, D = (make or make_gan)(torch)
    oG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    oD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    data = batches(pool, N)

    def step():  # the body of gan_bench.py's loop: a D update, then a non-saturating G update on the same G(z)
        real = next(data)
        ones, zeros = torch.ones(N, 1), torch.zeros(N, 1)
        fake = G(torch.randn(N, 64))
        d_real, d_fake = D(real), D(fake.detach())
        loss_d = 0.5 * (F.binary_cross_entropy_with_logits(d_real, ones) +
                        F.binary_cross_entropy_with_logits(d_fake, zeros))
        oD.zero_grad(set_to_none=True)
        loss_d.backward()
        oD.step()
        d_gen = D(fake)
        loss_g = F.binary_cross_entropy_with_logits(d_gen, ones)
        oG.zero_grad(set_to_none=True)
        loss_g.backward()
        oG.step()
        loss_d.item(), loss_g.item(), torch.sigmoid(d_real).mean().item(), torch.sigmoid(d_gen).mean().item()
    return step


def vae_module_path(torch, pool, N, make=None):
    """encode -> decode of the means through the modules"""
    model, x = (make or make_vae)(torch), pool[:N].clone()
    model.eval()
    return lambda: model.decode(model.encode(x)[0])


def cvae_latent_score(torch, pool, N):
    """the default anomaly score, latent-knn: the mean Mahalanobis distance
    of mu(x) to its 10 nearest among 8192 other rows' posterior means"""
    model, x = make_cvae(torch), pool[:N].clone()
    model.eval()
    bank = model.encode(pool[N:N + 8192])[0].double()
    mean, cov = bank.mean(0), torch.cov(bank.T)
    whiten = torch.linalg.inv(torch.linalg.cholesky(cov)).T.float()  # |(mu - mean) @ whiten| is Mahalanobis
    bank = ((bank - mean) @ whiten.double()).float()
    mean = mean.float()

    def call():
        q = (model.encode(x)[0] - mean) @ whiten
        return torch.cdist(q, bank).topk(10, largest=False).values.mean(1)
    return call


def vae_addmv_path(torch, pool, N):
    """the same math on 1-D tensors, so that torch calls sgemv (addmv) rather than sgemm with one row"""
    P = {k: v.detach() for k, v in make_vae(torch).named_parameters()}
    x = pool[0].clone()

    def call():
        h = torch.relu(torch.addmv(P["fc1.bias"], P["fc1.weight"], x))
        mu = torch.addmv(P["fc21.bias"], P["fc21.weight"], h)
        h3 = torch.relu(torch.addmv(P["fc3.bias"], P["fc3.weight"], mu))
        return torch.sigmoid(torch.addmv(P["fc4.bias"], P["fc4.weight"], h3))
    return call


# ---- timing, as genmodel-bench times ----

def warm_up(call, seconds):
    t0, i = time.perf_counter(), 0
    while i < 3 or time.perf_counter() - t0 < 0.2 * seconds:
        call()
        i += 1


def calls_per_second(call, seconds):
    warm_up(call, seconds)
    calls, t0 = 0, time.perf_counter()
    while True:
        call()
        calls += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return calls / elapsed


def call_latency(call, seconds):
    """median and 90th percentile of one call, in microseconds"""
    warm_up(call, seconds)
    times, start = [], time.perf_counter()
    t0 = start
    while t0 - start < seconds:
        call()
        t1 = time.perf_counter()
        times.append((t1 - t0) * 1e6)
        t0 = t1
    times.sort()
    return statistics.median(times), times[int(0.9 * len(times))]


# name, batch, the fewest threads it is timed on (as genmodel-bench's
# figures), how a call is built, the RESULT field, whether autograd is on
FIGURES = [
    ("vae_train", 128, 1, vae_train_step, "torch", True),
    ("vae_train", 512, 2, vae_train_step, "torch", True),
    ("gan_train", 128, 1, gan_train_step, "torch", True),
    ("gan_train", 512, 2, gan_train_step, "torch", True),
    ("vae_infer", 1000, 1, vae_module_path, "torch", False),
    ("vae_latency", 1, 1, vae_module_path, "torch", False),
    ("vae_latency", 1, 1, vae_addmv_path, "torch_addmv", False),
    # conv_bench.py's models
    ("dcgan_train", 64, 1, lambda t, p, n: gan_train_step(t, p, n, make_dcgan), "torch", True),
    ("cvae_train", 128, 1, lambda t, p, n: vae_train_step(t, p, n, make_cvae), "torch", True),
    ("cvae_latency", 1, 1, lambda t, p, n: vae_module_path(t, p, n, make_cvae), "torch", False),
    ("cvae_score", 1000, 1, cvae_latent_score, "torch", False),
]


def run(torch, args, threads, label):
    pool = load_images(torch, args.data, "train", POOL)
    if pool is None:
        print(f"INFO torch data: no Fashion-MNIST in {args.data}, uniform noise instead")
        pool = torch.rand(POOL, 784)
    only = set(args.only.split(",")) if args.only else None
    for name, N, min_threads, build, field, grad in FIGURES:
        if threads < min_threads or (only and name not in only):
            continue
        torch.manual_seed(0)
        torch.set_grad_enabled(grad)
        call = build(torch, pool, N)
        if N == 1:
            median, p90 = call_latency(call, args.seconds)
            value = f"unit=us {field}={median:.2f} {field}_p90={p90:.2f}"
        else:
            value = f"unit=samples/s {field}={N * calls_per_second(call, args.seconds):.0f}"
        print(f"RESULT name={name} batch={N} threads={threads} {label} {value}", flush=True)


def train(torch, args):
    """genmodel vae train --epochs E: load both splits, train, report the
    test -ELBO after each epoch, save the weights (vae_bench.py's loop)"""
    import torch.nn.functional as F
    torch.manual_seed(0)
    Xtr, Xte = load_images(torch, args.data, "train"), load_images(torch, args.data, "t10k")
    model = make_vae(torch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    for epoch in range(1, args.epochs + 1):
        Xs = Xtr[torch.randperm(Xtr.shape[0], generator=gen)]
        for at in range(0, Xs.shape[0], 128):
            x = Xs[at:at + 128]
            recon, mu, logvar = model(x)
            loss = vae_loss(torch, recon, x, mu, logvar)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        with torch.no_grad():
            total = 0.0
            for at in range(0, Xte.shape[0], 1000):
                x = Xte[at:at + 1000]
                mu, logvar = model.encode(x)
                z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
                rec = F.binary_cross_entropy_with_logits(model.decode_logits(z), x, reduction="sum")
                total += (rec - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())).item()
        print(f"epoch {epoch} test -ELBO {total / Xte.shape[0]:.3f}", flush=True)
    torch.save(model.state_dict(), args.out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["run", "train"])
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    ap.add_argument("--blas", type=int, help="OpenBLAS threads (default: --threads)")
    ap.add_argument("--seconds", type=float, default=1.5, help="run: time each figure this long")
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--only", help="run: these figures only, a comma list of names")
    ap.add_argument("--epochs", type=int, default=1, help="train: passes over the training set")
    ap.add_argument("--out", help="train: where to save the weights")
    args = ap.parse_args()
    blas = args.threads if args.blas is None else args.blas
    if args.mode == "train" and not args.out:
        ap.error("train needs --out")
    torch = import_torch(args.threads, blas)
    if args.mode == "train":
        return train(torch, args)
    print(f"INFO torch: {torch.__version__}, python {sys.version.split()[0]}")
    # threads= is the cores the figure may use, as genmodel-bench's; the setting says how
    run(torch, args, max(args.threads, blas), f"torch_setting=omp{args.threads}/blas{blas}")


if __name__ == "__main__":
    main()
