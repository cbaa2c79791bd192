"""Loading the library, the version check, and the declarations mirroring
the headers."""
import ctypes
import os
import re
import subprocess
import sys
import textwrap

import pytest

import genmodel
from genmodel import _lib
from helpers import REPO, TINY_GAN, TINY_SR, TINY_VAE, python_env, read_safetensors

HEADERS = REPO / "include" / "genmodel"


def run_python(code, **env):
    """Run code in a fresh interpreter with env changes (None removes a
    variable); returns the CompletedProcess."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=python_env(**env))


@pytest.mark.skipif("GENMODEL_LIBRARY" not in os.environ, reason="GENMODEL_LIBRARY is not set")
def test_loads_the_library_genmodel_library_names():
    assert genmodel.library_path() == os.environ["GENMODEL_LIBRARY"]


def test_version_matches_the_binding():
    assert genmodel.version().split(".")[0] == genmodel.__version__.split(".")[0]
    assert _lib.lib.gm_version() // 10000 == _lib.MAJOR


def test_backend_is_chosen_by_name():
    before = genmodel.backend_name()
    try:
        genmodel.set_backend("openblas")
        assert genmodel.backend_name() == "openblas"
        with pytest.raises(genmodel.InvalidArgumentError, match="no backend is called 'mkl'"):
            genmodel.set_backend("mkl")
        assert genmodel.backend_name() == "openblas"
    finally:
        genmodel.set_backend(before)


def test_another_major_version_is_refused():
    with pytest.raises(ImportError, match=r"libgenmodel 1\.2\.3; this binding .* needs 0\.x"):
        _lib.check_version(10203, "libgenmodel.so.0")


def test_a_missing_genmodel_library_is_an_import_error_naming_it():
    result = run_python("import genmodel", GENMODEL_LIBRARY="/nonexistent/libgenmodel.so.0")
    assert result.returncode != 0
    assert "ImportError" in result.stderr and "/nonexistent/libgenmodel.so.0" in result.stderr


def test_found_by_soname_through_the_dynamic_loader():
    if "GENMODEL_LIBRARY" not in os.environ:
        pytest.skip("needs GENMODEL_LIBRARY to know where the build is")
    libdir = os.path.dirname(os.environ["GENMODEL_LIBRARY"])
    result = run_python("import genmodel; print(genmodel.library_path(), genmodel.version())",
                        GENMODEL_LIBRARY=None, LD_LIBRARY_PATH=libdir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [_lib.SONAME, genmodel.version()]


def test_found_through_pkg_config(tmp_path):
    if "GENMODEL_LIBRARY" not in os.environ:
        pytest.skip("needs GENMODEL_LIBRARY to know where the build is")
    probe = run_python(f"import ctypes; ctypes.CDLL({_lib.SONAME!r})", GENMODEL_LIBRARY=None, LD_LIBRARY_PATH=None)
    if probe.returncode == 0:
        pytest.skip("an installed libgenmodel is found by its soname first")
    if subprocess.run(["pkg-config", "--version"], capture_output=True).returncode != 0:
        pytest.skip("pkg-config is not installed")
    libdir = os.path.dirname(os.environ["GENMODEL_LIBRARY"])
    (tmp_path / "genmodel.pc").write_text(
        f"libdir={libdir}\nName: genmodel\nDescription: test\nVersion: {genmodel.version()}\nLibs: -L${{libdir}}\n")
    result = run_python("import genmodel; print(genmodel.library_path())", GENMODEL_LIBRARY=None,
                        LD_LIBRARY_PATH=None, PKG_CONFIG_PATH=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == os.path.join(libdir, _lib.SONAME)


def public_functions():
    """Every GM_API function name in the public headers."""
    names = set()
    for header in HEADERS.glob("*.h"):
        text = re.sub(r"/\*.*?\*/", "", header.read_text(), flags=re.S)
        names.update(re.findall(r"GM_API\b[^;(]*?\b(gm_\w+)\s*\(", text))
    return names


@pytest.mark.skipif(not HEADERS.is_dir(), reason="the headers are not beside the tests")
def test_every_public_function_is_declared():
    declared = {name for name, _, _ in _lib._DECLARATIONS}
    assert public_functions() == declared


@pytest.mark.parametrize("struct, init", [
    (_lib.gm_vae_config, _lib.lib.gm_vae_config_init_size),
    (_lib.gm_gan_config, _lib.lib.gm_gan_config_init_size),
    (_lib.gm_sr_config, _lib.lib.gm_sr_config_init_size),
    (_lib.gm_checkpoint_info, _lib.lib.gm_checkpoint_info_init_size),
    (_lib.gm_dataset_options, _lib.lib.gm_dataset_options_init_size),
])
def test_struct_sizes_match_the_library(struct, init):
    # asked to fill more than it knows, the library writes its defaults and
    # zeroes the rest: the mirror's bytes come back the same, nothing beyond
    size = ctypes.sizeof(struct)
    exact, roomy = ctypes.create_string_buffer(size), ctypes.create_string_buffer(4096)
    init(ctypes.cast(exact, ctypes.POINTER(struct)), size)
    init(ctypes.cast(roomy, ctypes.POINTER(struct)), 4096)
    word = ctypes.sizeof(ctypes.c_size_t)
    assert ctypes.c_size_t.from_buffer(exact).value == size
    assert exact.raw[word:] == roomy.raw[word:size]
    assert roomy.raw[size:] == bytes(4096 - size)


def test_defaults_are_read_from_the_library():
    assert genmodel.VAE._spec.to_dict(genmodel.VAE._spec.defaults()) == {
        "input_dim": 784, "latent_dim": 20, "enc_hidden": (400,), "dec_hidden": (400,),
        "activation": "relu", "leaky_slope": 0.01, "likelihood": "bernoulli", "beta": 1.0, "n_classes": 0,
        "optimizer": "adam", "lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "seed": 0,
        "image_channels": 0, "image_height": 0, "image_width": 0, "conv_channels": (), "normalization": "none",
        "scoring": 1, "standardize": 0, "latent_bank": 8192,
    }
    assert genmodel.GAN._spec.to_dict(genmodel.GAN._spec.defaults()) == {
        "data_dim": 784, "noise_dim": 64, "gen_hidden": (256, 512), "disc_hidden": (512, 256),
        "activation": "leaky_relu", "leaky_slope": 0.2, "gen_output": "sigmoid", "loss": "hinge", "n_critic": 1,
        "gp_weight": 10.0, "label_smoothing": 0.0, "instance_noise": 0.0, "noise_anneal_steps": 10000,
        "ema_decay": 0.999, "n_classes": 0,
        "gen_optimizer": "adam", "gen_lr": 2e-4, "gen_betas": (0.5, 0.999), "gen_eps": 1e-8, "gen_weight_decay": 0.0,
        "disc_optimizer": "adam", "disc_lr": 2e-4, "disc_betas": (0.5, 0.999), "disc_eps": 1e-8,
        "disc_weight_decay": 0.0, "seed": 0,
        "image_channels": 0, "image_height": 0, "image_width": 0, "conv_channels": (), "gen_norm": "none",
        "disc_norm": "spectral", "minibatch_std": 0,
    }
    assert genmodel.SR._spec.to_dict(genmodel.SR._spec.defaults()) == {
        "scale": 2, "channels": 1, "body_channels": (64, 32), "body_kernel": (5, 3), "out_kernel": 3,
        "activation": "tanh", "leaky_slope": 0.2, "patch": 17, "pixel_loss": "mse", "adv_weight": 0.0,
        "adv_loss": "ns", "disc_channels": (32, 64, 128), "disc_norm": "spectral",
        "optimizer": "adam", "lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
        "disc_optimizer": "adam", "disc_lr": 1e-4, "disc_betas": (0.5, 0.999), "disc_eps": 1e-8,
        "disc_weight_decay": 0.0, "seed": 0,
    }


def c_fields(struct, prefix=""):
    """(C name as the checkpoint spells it, value) of every field but struct_size."""
    for name, ctype in struct._fields_:
        value = getattr(struct, name)
        if name == "struct_size":
            continue
        if isinstance(value, ctypes.Structure):
            yield from c_fields(value, f"{prefix}{name}.")
        elif isinstance(value, ctypes.Array):
            yield from ((f"{prefix}{name}[{i}]", v) for i, v in enumerate(value))
        else:
            yield f"{prefix}{name}", value


@pytest.mark.parametrize("cls, config", [
    (genmodel.VAE, dict(TINY_VAE, enc_hidden=(5, 6, 7, 9), dec_hidden=(10, 11), activation="elu",
                        leaky_slope=0.125, likelihood="gaussian", beta=0.5, n_classes=3, optimizer="adamw",
                        lr=0.25, betas=(0.375, 0.625), eps=0.0625, weight_decay=0.75, seed=2**40 + 7)),
    (genmodel.GAN, dict(TINY_GAN, gen_hidden=(5, 6, 7), disc_hidden=(9,), activation="tanh", leaky_slope=0.125,
                        gen_output="tanh", loss="hinge", n_critic=3, gp_weight=2.5, label_smoothing=0.25,
                        instance_noise=0.5, noise_anneal_steps=17, ema_decay=0.75, n_classes=2,
                        gen_optimizer="adamw", gen_lr=0.125, gen_betas=(0.25, 0.375), gen_eps=0.0625,
                        gen_weight_decay=0.5, disc_lr=0.625, disc_betas=(0.125, 0.875), disc_eps=0.03125,
                        disc_weight_decay=0.25, seed=99)),
    (genmodel.SR, dict(TINY_SR, scale=3, channels=3, body_channels=(5, 6, 7), body_kernel=(1, 3, 5), out_kernel=5,
                       activation="elu", leaky_slope=0.125, patch=4, pixel_loss="l1", adv_weight=0.5,
                       adv_loss="lsgan", disc_channels=(3, 4), disc_norm="none", optimizer="adamw", lr=0.125,
                       betas=(0.25, 0.375), eps=0.0625, weight_decay=0.5, disc_lr=0.625, disc_betas=(0.125, 0.875),
                       disc_eps=0.03125, disc_weight_decay=0.25, seed=2**40 + 9)),
])
def test_every_field_reaches_its_c_field(cls, config):
    # The checkpoint names each config field by its C name: a mirror with a
    # field out of place would store a value under the wrong name.
    with cls(**config) as model:
        _, meta = read_safetensors(model.to_bytes())
        assert model.config == {**model.config, **config}
        fields = dict(c_fields(model._cfg))
    assert len(fields) > 20
    for name, value in fields.items():
        assert float(meta[f"gm.config.{name}"]) == pytest.approx(value, rel=1e-7), name
