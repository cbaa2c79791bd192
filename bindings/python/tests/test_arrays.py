"""numpy at the boundary: float32 C-contiguous inputs go to C in place,
others are converted, wrong shapes are refused before any C call, outputs
come back with the documented dtypes."""
import numpy as np
import pytest

import genmodel
from genmodel import _lib
from helpers import TINY_GAN, TINY_VAE, patterns


class Spy:
    """Stands in for one declared C function: records each call's arguments
    and forwards them."""

    def __init__(self, monkeypatch, name):
        self.real, self.calls = getattr(_lib.lib, name), []
        monkeypatch.setattr(_lib.lib, name, self)

    def __call__(self, *args):
        self.calls.append(args)
        return self.real(*args)


@pytest.fixture
def vae():
    with genmodel.VAE(**TINY_VAE) as model:
        yield model


@pytest.fixture
def x():
    return patterns(8)[0]


def test_float32_c_contiguous_input_is_not_copied(vae, x, monkeypatch):
    spy = Spy(monkeypatch, "gm_vae_encode")
    vae.encode(x)
    passed = spy.calls[0][1]
    assert passed is x
    assert passed.ctypes.data == x.ctypes.data


def test_training_batches_are_not_copied(vae, x, monkeypatch):
    spy = Spy(monkeypatch, "gm_vae_train_step")
    vae.train_step(x)
    assert np.shares_memory(spy.calls[0][1], x)


@pytest.mark.parametrize("convert", [
    lambda x: x.astype(np.float64),
    lambda x: np.asfortranarray(x),
    lambda x: np.repeat(x, 2, axis=1)[:, ::2],  # a strided view
    lambda x: x.tolist(),
], ids=["float64", "fortran", "strided", "list"])
def test_other_inputs_are_converted(vae, x, convert, monkeypatch):
    expected = vae.reconstruct(x)
    spy = Spy(monkeypatch, "gm_vae_reconstruct")
    got = vae.reconstruct(convert(x))
    passed = spy.calls[0][1]
    assert passed.dtype == np.float32 and passed.flags.c_contiguous
    assert np.array_equal(got, expected)


@pytest.mark.parametrize("shape", [(8, 15), (8, 17), (16,), (2, 8, 16), ()])
def test_wrong_shapes_fail_before_the_c_call(vae, shape, monkeypatch):
    spy = Spy(monkeypatch, "gm_vae_encode")
    with pytest.raises(ValueError, match=r"x must have shape \(n, 16\)"):
        vae.encode(np.zeros(shape, np.float32))
    assert spy.calls == []


def test_latent_shapes_are_checked(vae):
    with pytest.raises(ValueError, match=r"z must have shape \(n, 2\)"):
        vae.decode(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"logvar must have the shape of mu"):
        vae.reparameterize(np.zeros((3, 2)), np.zeros((4, 2)))


def test_labels_become_int32():
    with genmodel.VAE(**dict(TINY_VAE, n_classes=3)) as cvae:
        x = patterns(6)[0]
        expected = cvae.reconstruct(x, np.array([0, 1, 2, 0, 1, 2], np.int32))
        assert np.array_equal(cvae.reconstruct(x, [0, 1, 2, 0, 1, 2]), expected)
        assert np.array_equal(cvae.reconstruct(x, np.array([0, 1, 2, 0, 1, 2], np.uint8)), expected)
        with pytest.raises(TypeError, match="labels must be integers"):
            cvae.reconstruct(x, np.zeros(6, np.float32))
        with pytest.raises(ValueError, match=r"labels must have shape \(6,\)"):
            cvae.reconstruct(x, [0, 1])
        with pytest.raises(ValueError, match="labels must fit in 32 bits"):
            cvae.reconstruct(x, np.full(6, 2**32 + 1))
        with pytest.raises(genmodel.InvalidArgumentError, match=r"labels\[0\] = 3 is not in \[0, 3\)"):
            cvae.sample(1, [3])


def test_integers_that_would_wrap_are_refused(vae, x):
    with pytest.raises(ValueError, match="does not fit in 32 bits"):
        vae.iwae(x, 2**32 + 1)
    with pytest.raises(ValueError, match="does not fit in 32 bits"):
        vae.sample(2**31)
    with pytest.raises(ValueError, match="n must be >= 0"):
        vae.sample(-1)


def test_output_dtypes_and_shapes(vae, x):
    mu, logvar = vae.encode(x)
    assert mu.dtype == logvar.dtype == np.float32 and mu.shape == logvar.shape == (8, 2)
    assert vae.decode(mu).shape == (8, 16) and vae.decode(mu).dtype == np.float32
    assert vae.reparameterize(mu, logvar).shape == (8, 2)
    for values in (vae.elbo(x), vae.iwae(x, 3), vae.score(x, m=2, kind="neg_elbo")):
        assert values.dtype == np.float64 and values.shape == (8,)
    assert vae.sample(5).shape == (5, 16) and vae.reconstruct(x).shape == (8, 16)
    order = vae.shuffle(10)
    assert order.dtype == np.int32 and sorted(order) == list(range(10))
    with genmodel.GAN(**TINY_GAN) as gan:
        assert gan.generate(np.zeros((3, 4))).shape == (3, 16)
        logits = gan.discriminate(x)
        assert logits.dtype == np.float32 and logits.shape == (8,)


def test_outputs_are_fresh_arrays(vae, x):
    first, second = vae.sample(4), vae.sample(4)
    assert not np.shares_memory(first, second) and not np.array_equal(first, second)
