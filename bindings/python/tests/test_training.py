"""Short real training runs: the loss falls."""
import os

import numpy as np
import pytest

import genmodel
from helpers import TINY_VAE, patterns


def test_vae_learns_synthetic_patterns():
    x, _ = patterns(512, classes=6)
    with genmodel.VAE(**dict(TINY_VAE, latent_dim=4, enc_hidden=(32,), dec_hidden=(32,), lr=1e-2)) as vae:
        history = vae.fit(x, 15, batch_size=32)
    neg_elbo = [h.neg_elbo for h in history]
    assert neg_elbo[0] > 10 and neg_elbo[-1] < 0.6 * neg_elbo[0]
    assert all(b < a for a, b in zip(neg_elbo[:5], neg_elbo[1:5]))  # steadily at first


@pytest.mark.skipif(not os.path.isdir(genmodel.FASHION_MNIST_DIR), reason="dataset-fashion-mnist is not installed")
def test_vae_on_fashion_mnist():
    with genmodel.Dataset.load_dir(split="train") as train, genmodel.Dataset.load_dir(split="t10k") as test:
        x, _ = train.gather(np.arange(4000))
        x_test, _ = test.gather(np.arange(1000))
    with genmodel.VAE(enc_hidden=(256,), dec_hidden=(256,), latent_dim=16, seed=1) as vae:
        untrained = -vae.elbo(x_test).mean()
        history = vae.fit(x, 3, batch_size=100)
        trained = -vae.elbo(x_test).mean()
    assert history[-1].neg_elbo < history[0].neg_elbo < untrained
    assert trained < 0.6 * untrained  # nats per image on held-out data
