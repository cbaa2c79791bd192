"""GAN specifics: the losses, the moving average, generate and
discriminate."""
import numpy as np
import pytest

import genmodel
from helpers import TINY_GAN, patterns


@pytest.mark.parametrize("loss", ["ns", "minimax", "hinge", "lsgan", "wgan-gp"])
def test_every_loss_trains(loss):
    x = patterns(64)[0]
    with genmodel.GAN(**dict(TINY_GAN, loss=loss)) as gan:
        history = gan.fit(x, 2, batch_size=16)
        assert gan.config["loss"] == loss
    assert all(np.isfinite(h).all() for h in history)
    assert isinstance(history[0], genmodel.GANLosses)
    assert (history[-1].gp > 0) == (loss == "wgan-gp")


def test_cross_entropy_reports_probabilities():
    with genmodel.GAN(**dict(TINY_GAN, loss="ns")) as gan:
        losses = gan.train_step(patterns(32)[0])
    assert 0 < losses.d_real < 1 and 0 < losses.d_fake < 1


def test_sample_generates_from_the_models_noise():
    with genmodel.GAN(**TINY_GAN) as gan:
        samples = gan.sample(16)
    assert samples.shape == (16, 16) and np.all((samples > 0) & (samples < 1))  # sigmoid outputs


def test_moving_average_of_the_generator():
    x, z = patterns(64)[0], np.random.default_rng(1).normal(size=(8, 4))
    with genmodel.GAN(**dict(TINY_GAN, ema_decay=0.9)) as gan:
        gan.fit(x, 2, batch_size=16)
        assert not np.array_equal(gan.generate(z, use_ema=True), gan.generate(z, use_ema=False))
        assert np.array_equal(gan.generate(z), gan.generate(z, use_ema=True))  # by default, the average
    with genmodel.GAN(**dict(TINY_GAN, ema_decay=0.0)) as gan:  # without an average: the raw weights
        gan.fit(x, 2, batch_size=16)
        assert np.array_equal(gan.generate(z), gan.generate(z, use_ema=False))
        with pytest.raises(ValueError, match="keeps no moving average"):  # never silently the raw weights
            gan.generate(z, use_ema=True)


def test_discriminator_learns_to_tell_real_from_noise():
    x = patterns(256)[0]
    noise = np.random.default_rng(2).random((256, 16)).astype(np.float32)
    with genmodel.GAN(**dict(TINY_GAN, disc_lr=2e-3)) as gan:
        gan.fit(x, 5, batch_size=32)
        assert gan.discriminate(x).mean() > gan.discriminate(noise).mean()


def test_set_lr():
    with genmodel.GAN(**TINY_GAN) as gan:
        gan.set_lr(1e-3, 5e-4)
        assert (gan.config["gen_lr"], gan.config["disc_lr"]) == (1e-3, 5e-4)
        with pytest.raises(genmodel.InvalidArgumentError):
            gan.set_lr(1e-3, -1)


def test_a_dcgan_from_keyword_arguments():
    """The conv fields come from the library's description: an image shape,
    the convolutions' channels, the normalizations and the minibatch-stddev
    group, all round-tripping through config and a checkpoint."""
    x = patterns(64)[0]  # 16 values: 4 x 4 images
    conv = dict(TINY_GAN, image_channels=1, image_height=4, image_width=4, conv_channels=(3, 5),
                gen_norm="batch", disc_norm="spectral", minibatch_std=4, loss="ns")
    with genmodel.GAN(**conv) as gan:
        history = gan.fit(x, 2, batch_size=16)
        assert all(np.isfinite(h).all() for h in history)
        config = gan.config
        assert {k: config[k] for k in conv} == conv
        z = np.random.default_rng(4).normal(size=(8, 4))
        samples = gan.generate(z)
        with genmodel.GAN.load(gan.to_bytes()) as back:
            assert back.config == config
            assert np.array_equal(back.generate(z), samples)
    assert samples.shape == (8, 16)
    with pytest.raises(ValueError, match="'spectral', got 'spectrum'"):
        genmodel.GAN(**dict(conv, disc_norm="spectrum"))
    with pytest.raises(genmodel.InvalidArgumentError, match="minibatch_std must be 0 or in"):
        genmodel.GAN(**dict(conv, minibatch_std=1))
