"""Checkpoints read without the library, and the library's own files read
by Python."""
import zlib

import numpy as np
import pytest

import genmodel
from helpers import REPO, TINY_GAN, TINY_VAE, patterns, read_safetensors

GOLDEN = REPO / "tests" / "data"


def relu(a):
    return np.maximum(a, 0)


def test_numpy_reads_the_weights_the_library_uses():
    x = patterns(128)[0]
    with genmodel.VAE(**dict(TINY_VAE, dec_hidden=(8, 6))) as vae:
        vae.fit(x, 1, batch_size=32)
        weights, meta = read_safetensors(vae.to_bytes())
        z = np.random.default_rng(0).normal(size=(10, 2)).astype(np.float32)
        expected = vae.decode(z)
    assert meta["gm.model"] == "vae" and meta["gm.step"] == "4"
    h = z
    for i in range(3):  # dec.0 and dec.1 with ReLU, then the output logits
        h = h @ weights[f"dec.{i}.weight"].T + weights[f"dec.{i}.bias"]
        h = relu(h) if i < 2 else 1 / (1 + np.exp(-h))
    assert np.allclose(h, expected, rtol=1e-5, atol=1e-6)
    assert weights["enc.1.weight"].shape == (2 * 2, 8)  # the last layer's rows: mu then logvar
    assert {"optim.m.dec.0.weight", "optim.v.dec.0.weight"} <= weights.keys()


def test_the_data_checksum_is_zlibs_crc32():
    with genmodel.GAN(**TINY_GAN) as gan:
        blob = gan.to_bytes()
    _, meta = read_safetensors(blob)
    header_length = int.from_bytes(blob[:8], "little")
    assert meta["gm.crc32.data"] == f"{zlib.crc32(blob[8 + header_length:]):08x}"
    assert (8 + header_length) % 64 == 0


def test_checkpoint_info(tmp_path):
    with genmodel.GAN(**TINY_GAN) as gan:
        gan.train_step(patterns(16)[0])
        gan.save(tmp_path / "gan.safetensors")
        info = genmodel.checkpoint_info(tmp_path / "gan.safetensors")
        assert info == ("gan", 1, 1, gan.config)
        assert genmodel.checkpoint_info(str(tmp_path / "gan.safetensors")) == info
        # bytes are a checkpoint's contents to load(), so never a file name here
        for blob in (gan.to_bytes(), str(tmp_path / "gan.safetensors").encode()):
            with pytest.raises(TypeError, match="not bytes"):
                genmodel.checkpoint_info(blob)


@pytest.mark.parametrize("cls, name", [(genmodel.VAE, "vae-v1.safetensors"), (genmodel.GAN, "gan-v1.safetensors")])
def test_golden_files_from_the_c_tests_load(cls, name):
    path = GOLDEN / name
    if not path.exists():
        pytest.skip(f"{path} is not beside the tests")
    with genmodel.load(path) as model:
        assert type(model) is cls
        saved = read_safetensors(model.to_bytes())
    golden = read_safetensors(path.read_bytes())
    assert saved[0].keys() == golden[0].keys()
    assert all(np.array_equal(saved[0][name], golden[0][name]) for name in golden[0])
    informational = {"gm.library_version", "gm.crc32.header"}
    # the fields added since the file was written are saved at their defaults: an MLP
    later = {f"gm.config.{k}" for k in ("image_channels", "image_height", "image_width", "n_conv",
                                        "conv_channels[0]", "conv_channels[1]", "conv_channels[2]",
                                        "conv_channels[3]")}
    later |= {"gm.config.normalization", "gm.config.scoring", "gm.config.standardize",
                                                    "gm.config.latent_bank"} if cls is genmodel.VAE else \
        {"gm.config.gen_norm", "gm.config.disc_norm", "gm.config.minibatch_std"}
    assert {k: saved[1][k] for k in later} == {k: "0" for k in later}
    assert {k: v for k, v in saved[1].items() if k not in informational | later} == \
           {k: v for k, v in golden[1].items() if k not in informational}
