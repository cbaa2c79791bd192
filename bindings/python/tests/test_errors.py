"""Each gm_status raises its own GenModelError subclass, carrying the
library's message from gm_last_error()."""
import resource
import threading

import numpy as np
import pytest

import genmodel
from genmodel import _lib
from helpers import TINY_VAE, read_safetensors, write_safetensors


@pytest.fixture
def vae():
    with genmodel.VAE(**TINY_VAE) as model:
        yield model


def test_classes_are_rooted_and_pythonic():
    pairs = {
        genmodel.InvalidArgumentError: ValueError, genmodel.NoMemoryError: MemoryError,
        genmodel.FileError: OSError, genmodel.NumericError: ArithmeticError,
    }
    for cls, builtin in pairs.items():
        assert issubclass(cls, genmodel.GenModelError) and issubclass(cls, builtin)
    statuses = [cls.status for cls in genmodel.GenModelError.__subclasses__()]
    assert sorted(statuses) == list(range(1, 10))


def test_invalid_argument():
    with pytest.raises(genmodel.InvalidArgumentError) as info:
        genmodel.VAE(latent_dim=0)
    assert str(info.value) == "gm_vae_create: latent_dim must be in [1, 16777216] (got 0)"
    assert info.value.status == 1 and info.value.message == str(info.value)
    assert isinstance(info.value, ValueError)


def test_input_outside_the_likelihood_domain(vae):
    x = np.full((2, 16), 0.5, np.float32)
    x[1, 3] = 2.0
    with pytest.raises(genmodel.InvalidArgumentError, match=r"x\[1\]\[3\] = 2 is outside the Bernoulli"):
        vae.train_step(x)
    assert vae.step == 0


def test_labels_for_an_unconditional_model(vae):
    with pytest.raises(genmodel.InvalidArgumentError, match="labels must be NULL for an unconditional model"):
        vae.sample(2, labels=[0, 1])


def test_no_memory():
    # sizes within every limit (8 GiB of weights, gradients and moments),
    # with 1 GiB of address space left to allocate them in
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as f:
        mapped = int(f.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (mapped + (1 << 30), hard))
    try:
        with pytest.raises(genmodel.NoMemoryError, match="cannot allocate") as info:
            genmodel.VAE(input_dim=2**22, enc_hidden=(64,), dec_hidden=(64,))
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    assert isinstance(info.value, MemoryError) and info.value.status == 2


def test_io(tmp_path):
    missing = tmp_path / "missing.safetensors"
    with pytest.raises(genmodel.FileError, match=f"cannot open '{missing}': No such file or directory") as info:
        genmodel.VAE.load(missing)
    assert isinstance(info.value, OSError) and info.value.status == 3


def test_save_into_a_missing_directory_is_an_io_error(vae, tmp_path):
    with pytest.raises(genmodel.FileError, match="No such file or directory"):
        vae.save(tmp_path / "no" / "such" / "dir" / "vae.safetensors")


def test_format(vae):
    with pytest.raises(genmodel.FormatError, match="too short for the 8-byte header length"):
        genmodel.VAE.load(b"garbage")
    blob = bytearray(vae.to_bytes())
    blob[-1] ^= 0xFF  # a weight's byte: the data checksum no longer matches
    with pytest.raises(genmodel.FormatError, match="crc|CRC|checksum"):
        genmodel.VAE.load(bytes(blob))


def test_version(vae):
    tensors, meta = read_safetensors(vae.to_bytes())
    with pytest.raises(genmodel.VersionError, match="format"):
        genmodel.VAE.load(write_safetensors(tensors, dict(meta, **{"gm.format_version": "2"})))


def test_mismatch(vae):
    with pytest.raises(genmodel.MismatchError, match="the file holds a vae, not a gan"):
        genmodel.GAN.load(vae.to_bytes())


def test_state(vae):
    # the allocator cannot change while a handle holds memory from it
    with pytest.raises(genmodel.StateError, match="gm_set_allocator: .* still live"):
        _lib.lib.gm_set_allocator(None)


def test_numeric_changes_nothing():
    with genmodel.VAE(**dict(TINY_VAE, likelihood="gaussian")) as vae:
        before = vae.to_bytes()
        with pytest.raises(genmodel.NumericError, match="no update was made") as info:
            vae.train_step(np.full((4, 16), 1e30, np.float32))
        assert isinstance(info.value, ArithmeticError) and info.value.status == 8
        assert vae.to_bytes() == before and vae.step == 0


def test_unsupported(vae):
    tensors, meta = read_safetensors(vae.to_bytes())
    tensors["dec.0.bias"] = tensors["dec.0.bias"].astype("<f2")
    with pytest.raises(genmodel.UnsupportedError, match="only F32 is supported"):
        genmodel.VAE.load(write_safetensors(tensors, meta))


def test_png_without_libpng_is_unsupported(tmp_path):
    if genmodel.have_png():
        pytest.skip("this build writes PNG")
    with pytest.raises(genmodel.UnsupportedError, match="no PNG support"):
        genmodel.write_image_grid(tmp_path / "grid.png", np.zeros((1, 4)))


def test_each_thread_reads_its_own_message():
    # gm_last_error() is thread-local and errcheck reads it on the calling
    # thread, so concurrent failures never see each other's text.
    failures = []

    def provoke(make, expected):
        for _ in range(200):
            try:
                make()
            except genmodel.GenModelError as e:
                if expected not in str(e):
                    failures.append(str(e))

    threads = [
        threading.Thread(target=provoke, args=(lambda: genmodel.VAE(latent_dim=0), "latent_dim")),
        threading.Thread(target=provoke, args=(lambda: genmodel.Dataset("/nonexistent/images"), "/nonexistent")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
