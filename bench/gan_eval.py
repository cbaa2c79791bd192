#!/usr/bin/python3
"""Score generated Fashion-MNIST samples with a small CNN classifier (FID-FMNIST and class coverage).

Usage (Debian's python3-torch + python3-numpy only; run with /usr/bin/python3):
    gan_eval.py --train-classifier              # train the CNN (~2 min, 1 thread), cache it, print test accuracy
    gan_eval.py SAMPLES.idx3 [MORE.idx3 ...]    # score files; trains the classifier first if it is not cached
    gan_eval.py S.idx3 --grid S.png             # also write the first 100 samples of S.idx3 as a 10x10 PNG grid
Options: --classifier PATH (default $XDG_CACHE_HOME/libgenmodel/fmnist_classifier.pt, else ~/.cache/...),
         --threads N (torch and OpenBLAS threads for scoring, default 2; training always uses 1),
         --data DIR (Fashion-MNIST .gz files).
Sample files are IDX3 uint8 (N, 28, 28), optionally gzipped, pixel 0 = background (as in the dataset).
Classifier: conv3x3(16)-BN-ReLU-pool, conv3x3(32)-BN-ReLU-pool, dense 128 + ReLU (the features), dense 10;
3 epochs of Adam (lr 2e-3 decaying linearly to 0, batch 64, seed 0) on the 60k train images: ~91% test accuracy.

Metrics (one `RESULT` line per file, plus one for the real test set as a floor):
  fid       Frechet distance between Gaussians fitted to the classifier's 128-d penultimate features
            (after ReLU) of the samples and of the 10,000 test images ("FID-FMNIST"; lower is better).
            Not comparable with Inception FID.  The floor line scores the first 10,000 *train* images
            against the test set, so it has the same sample size and hence about the same bias.
  hist      share (%) of the samples the classifier assigns (argmax) to each class, in the order
            tshirt,trouser,pullover,dress,coat,sandal,shirt,sneaker,bag,boot (real data: ~10% each).
  ge5       number of classes with a share >= 5% (10 = all classes present; mode collapse lowers it).
  entropy   entropy of hist in nats; uniform = ln 10 = 2.303.
  conf      mean max-softmax probability: a sharpness proxy (blurry or speckled samples lower it).
Deterministic: fixed seeds give the same numbers for the same inputs (checked with --threads 1 and 2).
A cached classifier is reused; --train-classifier retrains it (same seed -> same weights on this machine).
"""
import argparse, gzip, math, os, struct, sys, time, zlib

CLASSES = ["tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"]
DATA_DIR = "/usr/share/datasets/fashion-mnist"
SEED, EPOCHS, BATCH, LR = 0, 3, 64, 2e-3
ARCH = "c16bn-c32bn-d128-v1"   # stored with the weights; change it when make_classifier() changes


def default_cache():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "libgenmodel", "fmnist_classifier.pt")


def read_idx(path):
    """IDX file (optionally gzipped) with uint8 data -> numpy uint8 array."""
    import numpy as np
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        sys.exit(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != math.prod(dims):
        sys.exit(f"{path}: header says {dims}, file holds {arr.size} bytes")
    return arr.reshape(dims)


def load_split(data_dir, split):
    pre = "train" if split == "train" else "t10k"
    return (read_idx(f"{data_dir}/{pre}-images-idx3-ubyte.gz"),
            read_idx(f"{data_dir}/{pre}-labels-idx1-ubyte.gz"))


def to_tensor(imgs_u8):
    import torch
    return torch.from_numpy(imgs_u8.reshape(-1, 1, 28, 28).astype("float32") / 255.0)


def make_classifier():
    from torch import nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),   # 16x14x14
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),  # 32x7x7
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(),           # penultimate features
        nn.Linear(128, 10))


def features_and_probs(model, imgs_u8, batch=1000):
    """-> (penultimate features float64 (N,128), softmax probabilities float64 (N,10))."""
    import numpy as np, torch
    feats, probs = [], []
    model.eval()
    with torch.no_grad():
        for i in range(0, len(imgs_u8), batch):
            h = model[:-1](to_tensor(imgs_u8[i:i + batch]))
            feats.append(h.double().numpy())
            probs.append(torch.softmax(model[-1](h).double(), dim=1).numpy())
    return np.concatenate(feats), np.concatenate(probs)


def train_classifier(args):
    import torch
    import torch.nn.functional as F
    torch.manual_seed(SEED)
    Xtr, ytr = load_split(args.data, "train")
    Xte, yte = load_split(args.data, "test")
    X, y = to_tensor(Xtr), torch.from_numpy(ytr.astype("int64"))
    model = make_classifier()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    gen = torch.Generator().manual_seed(SEED)
    steps, step = EPOCHS * -(-len(X) // BATCH), 0
    t0 = time.perf_counter()
    for ep in range(1, EPOCHS + 1):
        model.train()
        perm, total = torch.randperm(len(X), generator=gen), 0.0
        for i in range(0, len(X), BATCH):
            for group in opt.param_groups:   # learning rate decays linearly to 0
                group["lr"] = LR * (1.0 - step / steps)
            step += 1
            idx = perm[i:i + BATCH]
            loss = F.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
            total += loss.item() * len(idx)
        acc = test_accuracy(model, Xte, yte)
        print(f"classifier epoch {ep} loss={total / len(X):.4f} test_acc={acc:.2f}% "
              f"({time.perf_counter() - t0:.0f}s)", flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.classifier)), exist_ok=True)
    torch.save({"arch": ARCH, "state_dict": model.state_dict(), "test_acc": acc, "epochs": EPOCHS, "seed": SEED},
               args.classifier)
    print(f"RESULT classifier test_acc={acc:.2f}% train_s={time.perf_counter() - t0:.1f} -> {args.classifier}")
    return model


def test_accuracy(model, Xte, yte):
    _, p = features_and_probs(model, Xte)
    return 100.0 * float((p.argmax(1) == yte).mean())


def load_classifier(args):
    import torch
    if not os.path.exists(args.classifier):
        print(f"no classifier at {args.classifier}; training it first", flush=True)
        return train_classifier(args)
    ckpt = torch.load(args.classifier)
    if ckpt.get("arch") != ARCH:
        sys.exit(f"{args.classifier}: classifier {ckpt.get('arch')} is not {ARCH}; rerun with --train-classifier")
    model = make_classifier()
    model.load_state_dict(ckpt["state_dict"])
    return model


def gaussian(feats):
    import numpy as np
    return feats.mean(0), np.cov(feats, rowvar=False)


def frechet(g1, g2):
    """|mu1-mu2|^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2), matrix roots by symmetric eigendecomposition."""
    import numpy as np
    (m1, s1), (m2, s2) = g1, g2
    w, v = np.linalg.eigh(s1)
    r1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = r1 @ s2 @ r1
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(0.5 * (m + m.T)), 0, None)).sum()
    return max(0.0, float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2.0 * cross))


def score(name, feats, probs, ref):
    import numpy as np
    hist = 100.0 * np.bincount(probs.argmax(1), minlength=10) / len(probs)
    p = hist[hist > 0] / 100.0
    ent = float(-(p * np.log(p)).sum())
    print(f"RESULT gan_eval file={name} n={len(feats)} fid={frechet(gaussian(feats), ref):.3f} "
          f"ge5={int((hist >= 5.0).sum())} entropy={ent:.3f} conf={probs.max(1).mean():.4f} "
          f"hist={','.join(f'{h:.1f}' for h in hist)}", flush=True)


def write_grid_png(path, imgs_u8, rows=10, pad=2):
    """First rows*rows images as a grayscale PNG grid (white gaps), written with zlib + struct."""
    import numpy as np
    n, h, w = rows, imgs_u8.shape[1], imgs_u8.shape[2]
    H, W = n * (h + pad) + pad, n * (w + pad) + pad
    canvas = np.full((H, W), 255, np.uint8)
    for k, img in enumerate(imgs_u8[:n * n]):
        r, c = divmod(k, n)
        canvas[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = img

    def chunk(tag, body):
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))
    raw = b"".join(b"\x00" + canvas[y].tobytes() for y in range(H))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    print(f"wrote {min(len(imgs_u8), n * n)}-sample grid -> {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("samples", nargs="*", help="IDX3 uint8 files (N,28,28), optionally gzipped")
    ap.add_argument("--train-classifier", action="store_true", help="(re)train and cache the classifier")
    ap.add_argument("--classifier", default=default_cache(), help="classifier weights (default %(default)s)")
    ap.add_argument("--threads", type=int, default=2, help="torch and OpenBLAS threads (default 2)")
    ap.add_argument("--data", default=DATA_DIR, help="directory with the Fashion-MNIST .gz files")
    ap.add_argument("--grid", metavar="PNG", help="write the first 100 samples of the first file as a PNG grid")
    args = ap.parse_args()
    if not args.samples and not args.train_classifier:
        ap.error("give sample files and/or --train-classifier")
    # Training always runs on 1 thread: faster for batch 64 here, and the cached weights then do not
    # depend on --threads.  Thread counts must be set before `import torch` (set_num_threads misses OpenBLAS).
    training = args.train_classifier or not os.path.exists(args.classifier)
    threads = 1 if training else args.threads
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    import torch
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    model = train_classifier(args) if args.train_classifier else load_classifier(args)
    if not args.samples:
        return
    Xte, yte = load_split(args.data, "test")
    Xtr, _ = load_split(args.data, "train")
    f_te, p_te = features_and_probs(model, Xte)
    ref = gaussian(f_te)
    print(f"classifier {args.classifier}: test_acc={100.0 * (p_te.argmax(1) == yte).mean():.2f}%")
    print(f"hist order: {','.join(CLASSES)}")
    score("fmnist-train[:10000]-vs-test(floor)", *features_and_probs(model, Xtr[:10000]), ref)
    for path in args.samples:
        imgs = read_idx(path)
        if imgs.ndim != 3 or imgs.shape[1:] != (28, 28):
            sys.exit(f"{path}: expected (N, 28, 28) images, got {imgs.shape}")
        score(os.path.basename(path), *features_and_probs(model, imgs), ref)
        if args.grid and path == args.samples[0]:
            write_grid_png(args.grid, imgs)
    print(f"eval time {time.perf_counter() - t0:.1f}s (threads={threads})")


if __name__ == "__main__":
    main()
