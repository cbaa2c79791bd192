"""No leaks across the binding: creating, training, saving, loading and
freeing handles in a loop leaves the resident set size flat."""
import gc
import os

import pytest

import genmodel
from helpers import TINY_GAN, patterns, under_asan


def rss_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def cycle(x, i, tmp_path):
    """One round of everything that allocates, half of it freed by close()
    and half by the garbage collector."""
    vae = genmodel.VAE(input_dim=16, latent_dim=4, enc_hidden=(64,), dec_hidden=(64,), seed=i)
    vae.fit(x, 1, batch_size=32)
    vae.encode(x), vae.sample(8), vae.iwae(x[:8], 4)
    with genmodel.VAE.load(vae.to_bytes()) as copy:
        copy.train_step(x)
    if i % 10 == 0:  # saving syncs the disk: slow, and nothing the binding allocates
        vae.save(tmp_path / "vae.safetensors")
        with genmodel.load(tmp_path / "vae.safetensors"):
            pass
    gan = genmodel.GAN(**dict(TINY_GAN, seed=i, ema_decay=0.5))
    gan.fit(x, 1, batch_size=32)
    gan.sample(8)
    genmodel.write_idx(tmp_path / "x.idx", x, 4, 4)
    with genmodel.Dataset(tmp_path / "x.idx") as ds:
        ds.gather()
    try:
        genmodel.VAE.load(b"not a checkpoint")
    except genmodel.FormatError:
        pass
    if i % 2:
        vae.close()
        gan.close()


@pytest.mark.skipif(under_asan(), reason="ASan's quarantine keeps freed memory resident")
def test_resident_memory_stays_flat(tmp_path):
    x = patterns(64)[0]
    for i in range(100):  # warm-up: allocator pools, OpenBLAS buffers, numpy caches
        cycle(x, i, tmp_path)
    gc.collect()
    before = rss_bytes()
    for i in range(600):
        cycle(x, i, tmp_path)
    gc.collect()
    growth = rss_bytes() - before
    # one leaked VAE per cycle would be 600 * ~40 KB = 24 MB
    assert growth < 2 * 1024 * 1024, f"RSS grew by {growth / 1024:.0f} KiB over 600 cycles"
