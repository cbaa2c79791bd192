"""What VAE and GAN share: construction, config, lifetime, persistence,
determinism and the epoch loop. Every test runs on both."""
import copy
import gc
import pickle
import subprocess
import sys

import numpy as np
import pytest

import genmodel
from helpers import TINY_GAN, TINY_VAE, patterns, python_env

MODELS = [pytest.param(genmodel.VAE, TINY_VAE, id="vae"), pytest.param(genmodel.GAN, TINY_GAN, id="gan")]


def outputs(model, x):
    """Deterministic outputs that depend on every weight."""
    if isinstance(model, genmodel.VAE):
        return model.reconstruct(x)
    return np.concatenate([model.generate(np.linspace(-1, 1, 4 * len(x)).reshape(-1, 4)),
                           model.discriminate(x)[:, None]], axis=1)


@pytest.fixture
def x():
    return patterns(64)[0]


@pytest.mark.parametrize("cls, config", MODELS)
def test_config_round_trips(cls, config):
    with cls(**config) as model:
        assert model.config == {**model.config, **config}
        with cls(**model.config) as again:
            assert again.config == model.config
            assert again.to_bytes() == model.to_bytes()


@pytest.mark.parametrize("cls, config", MODELS)
def test_bad_keywords(cls, config):
    with pytest.raises(TypeError, match=f"{cls.__name__}\\(\\) got an unexpected keyword argument 'bogus'"):
        cls(bogus=1)
    with pytest.raises(ValueError, match="activation must be one of 'identity', 'relu'"):
        cls(activation="swish")
    with pytest.raises(ValueError, match="seed = -1 is out of range"):
        cls(seed=-1)
    with pytest.raises(TypeError, match="n_classes"):
        cls(n_classes=1.5)
    hidden = "enc_hidden" if cls is genmodel.VAE else "gen_hidden"
    with pytest.raises(ValueError, match=f"{hidden}: at most 4 hidden layers, got 5"):
        cls(**{hidden: (8,) * 5})


@pytest.mark.parametrize("cls, config", MODELS)
def test_close_and_context_manager(cls, config):
    model = cls(**config)
    assert not model.closed and repr(model).startswith(f"<{cls.__name__} step=0")
    model.close()
    model.close()  # a second close does nothing
    assert model.closed and repr(model) == f"<{cls.__name__} (closed)>"
    with pytest.raises(ValueError, match=f"this {cls.__name__} is closed"):
        model.sample(1)
    with cls(**config) as model:
        pass
    assert model.closed


@pytest.mark.parametrize("cls, config", MODELS)
def test_garbage_collection_frees(cls, config):
    model = cls(**config)
    del model
    gc.collect()
    half_built = cls.__new__(cls)  # never owned a handle
    del half_built


def test_interpreter_shutdown_with_live_handles():
    # handles in module globals and in reference cycles are freed, or left
    # to the process's end, without an error at shutdown
    code = ("import genmodel\n"
            "vae = genmodel.VAE(input_dim=4, latent_dim=1)\n"
            "cycle = [genmodel.GAN(data_dim=4, noise_dim=1)]\n"
            "cycle.append(cycle)\n"
            "half_built = genmodel.Dataset.__new__(genmodel.Dataset)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=python_env())
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize("cls, config", MODELS)
def test_same_seed_same_results(cls, config, x):
    with cls(**config) as a, cls(**config) as b:
        assert a.fit(x, 2, batch_size=16) == b.fit(x, 2, batch_size=16)
        assert np.array_equal(outputs(a, x), outputs(b, x))
        assert np.array_equal(a.sample(5), b.sample(5))
    with cls(**config) as a, cls(**dict(config, seed=4)) as b:
        assert not np.array_equal(outputs(a, x), outputs(b, x))


@pytest.mark.parametrize("cls, config", MODELS)
def test_save_and_load_are_exact(cls, config, x, tmp_path):
    with cls(**config) as model:
        model.fit(x, 1, batch_size=16)
        path = tmp_path / "model.safetensors"
        model.save(path)
        assert path.read_bytes() == model.to_bytes()
        for source in (path, str(path), model.to_bytes(), bytearray(model.to_bytes())):
            with cls.load(source) as loaded:
                assert loaded.config == model.config and loaded.step == model.step
                assert np.array_equal(outputs(loaded, x), outputs(model, x))
        for source in (path, model.to_bytes()):
            with genmodel.load(source) as loaded:
                assert type(loaded) is cls


@pytest.mark.parametrize("cls, config", MODELS)
def test_training_resumes_exactly(cls, config, x):
    # the checkpoint holds the optimizer moments and the random state too
    with cls(**config) as straight:
        straight.fit(x, 1, batch_size=16)
        with cls.load(straight.to_bytes()) as resumed:
            assert resumed.fit(x, 2, batch_size=16) == straight.fit(x, 2, batch_size=16)
            assert resumed.to_bytes() == straight.to_bytes()


@pytest.mark.parametrize("cls, config", MODELS)
def test_pickle_and_deepcopy(cls, config, x):
    with cls(**config) as model:
        model.train_step(x)
        for clone in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
            with clone:
                assert clone.to_bytes() == model.to_bytes()


@pytest.mark.parametrize("cls, config", MODELS)
def test_step_counts_updates(cls, config, x):
    with cls(**config) as model:
        assert model.step == 0
        model.train_step(x[:10])
        model.fit(x, 2, batch_size=32)
        assert model.step == 5


@pytest.mark.parametrize("cls, config", MODELS)
def test_fit_is_shuffle_then_batches(cls, config, x):
    # fit() is exactly the documented loop over train_step
    with cls(**config) as by_hand, cls(**config) as fitted:
        history = fitted.fit(x, 2, batch_size=24)
        for epoch in range(2):
            order = by_hand.shuffle(len(x))
            steps = [(by_hand.train_step(x[order[at:at + 24]]), len(order[at:at + 24])) for at in range(0, 64, 24)]
            mean = np.sum([np.multiply(losses, n) for losses, n in steps], axis=0) / len(x)
            assert np.allclose(history[epoch], mean, rtol=1e-12)
        if cls is genmodel.VAE:  # and a VAE fits its latent scores
            by_hand.fit_latent(x)
        assert by_hand.to_bytes() == fitted.to_bytes()
        assert type(history[0]) is cls._losses


@pytest.mark.parametrize("cls, config", MODELS)
def test_fit_callback_can_stop(cls, config, x):
    seen = []

    def callback(epoch, losses):
        seen.append((epoch, losses))
        return epoch < 2

    with cls(**config) as model:
        history = model.fit(x, 10, batch_size=32, callback=callback)
    assert [epoch for epoch, _ in seen] == [1, 2] and [losses for _, losses in seen] == history


@pytest.mark.parametrize("cls, config", MODELS)
def test_fit_arguments(cls, config, x):
    with cls(**config) as model:
        with pytest.raises(ValueError, match="batch_size must be >= 1"):
            model.fit(x, 1, batch_size=0)
        assert model.fit(x, 0) == []


@pytest.mark.parametrize("cls, config", MODELS)
def test_conditional_models_take_labels(cls, config, tmp_path):
    x, labels = patterns(64, classes=4)
    with cls(**dict(config, n_classes=4)) as model:
        model.fit(x, 1, batch_size=16, labels=labels)
        samples = model.sample(8, labels=np.arange(8) % 4)
        assert samples.shape == (8, 16)
        with pytest.raises(genmodel.InvalidArgumentError, match="labels must be given for a conditional model"):
            model.sample(8)


@pytest.mark.parametrize("cls, config", MODELS)
def test_fit_on_no_rows_names_its_argument(cls, config):
    with cls(**config) as model:
        with pytest.raises(ValueError, match=r"fit: x has no rows \(shape \(0, 16\)\)") as info:
            model.fit(np.zeros((0, 16), np.float32), 1)
        assert not isinstance(info.value, genmodel.GenModelError) and model.step == 0
