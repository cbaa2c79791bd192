"""Interchange with the C tool: checkpoints written in Python are read by
`genmodel`, and the tool's are read in Python, with identical results.
Runs when GENMODEL_TOOL names the tool (meson test sets it)."""
import numpy as np
import pytest

import genmodel
from helpers import TINY_GAN, TINY_VAE, patterns, read_safetensors, table


def test_info_reads_a_python_checkpoint(tool, tmp_path):
    path = tmp_path / "vae.safetensors"
    with genmodel.VAE(**TINY_VAE) as vae:
        vae.train_step(patterns(8)[0])
        vae.save(path)
    out = tool("info", path)
    assert f"{path}: VAE checkpoint, format version 1, 1 steps" in out
    fields = dict(line.split(None, 1) for line in out.splitlines()[1:])
    assert {k: fields[k] for k in ("input_dim", "latent_dim", "likelihood", "seed")} == \
        {"input_dim": "16", "latent_dim": "2", "likelihood": "bernoulli", "seed": "3"}


@pytest.mark.parametrize("cls, config", [(genmodel.VAE, TINY_VAE), (genmodel.GAN, TINY_GAN)], ids=["vae", "gan"])
def test_tool_samples_what_python_samples(tool, tmp_path, cls, config):
    path = tmp_path / "model.safetensors"
    with cls(**config) as model:
        model.fit(patterns(64)[0], 1, batch_size=16)
        model.save(path)
    tool(cls.__name__.lower(), "sample", path, "-n", 16, "--idx", tmp_path / "c.idx3")
    with cls.load(path) as model:  # the same file, so the same random state
        genmodel.write_idx(tmp_path / "py.idx3", model.sample(16), 4, 4)
    assert (tmp_path / "c.idx3").read_bytes() == (tmp_path / "py.idx3").read_bytes()


def test_vae_trained_by_the_tool_matches_python(tool, mnist_dir, tmp_path, one_thread):
    tool("vae", "train", "--data", mnist_dir, "--epochs", 1, "--hidden", 16, "--latent", 2, "--batch", 32,
         "--seed", 5, "--threads", 1, "--out", tmp_path / "c.safetensors")
    with genmodel.Dataset.load_dir(mnist_dir) as ds:
        x, _ = ds.gather()
    with genmodel.VAE(input_dim=64, latent_dim=2, enc_hidden=(16,), dec_hidden=(16,), seed=5) as vae, \
            genmodel.VAE.load(tmp_path / "c.safetensors") as from_c:
        vae.fit(x, 1, batch_size=32)
        assert from_c.config == vae.config and from_c.step == vae.step == 4
        # the tool then evaluates the test set, which draws from the random
        # state: the weights and optimizer moments agree, not the RNG counter
        c_tensors, _ = read_safetensors(from_c.to_bytes())
        py_tensors, _ = read_safetensors(vae.to_bytes())
        assert all(np.array_equal(c_tensors[name], py_tensors[name]) for name in c_tensors)
        z = np.random.default_rng(0).normal(size=(5, 2))
        assert np.array_equal(from_c.decode(z), vae.decode(z))


def test_gan_trained_by_the_tool_is_byte_identical(tool, mnist_dir, tmp_path, one_thread):
    tool("gan", "train", "--data", mnist_dir, "--epochs", 2, "--batch", 32, "--noise-dim", 8, "--loss", "hinge",
         "--seed", 5, "--threads", 1, "--out", tmp_path / "c.safetensors")
    with genmodel.Dataset.load_dir(mnist_dir) as ds:
        x, _ = ds.gather()
    with genmodel.GAN(data_dim=64, noise_dim=8, loss="hinge", seed=5) as gan:
        gan.fit(x, 2, batch_size=32)
        gan.save(tmp_path / "py.safetensors")
    assert (tmp_path / "c.safetensors").read_bytes() == (tmp_path / "py.safetensors").read_bytes()
    assert genmodel.checkpoint_info(tmp_path / "c.safetensors").step == 8


@pytest.mark.parametrize("form", ["npy", "csv"])
def test_tool_trains_on_a_file(tool, mnist_dir, tmp_path, one_thread, form):
    """`--data FILE` (NPY with an NPY of labels, or CSV with a label column)
    trains the same conditional GAN as Python does on the same rows."""
    with genmodel.Dataset.load_dir(mnist_dir) as ds:
        x, labels = ds.gather()
    if form == "npy":
        np.save(tmp_path / "x.npy", (x * 255).round().astype(np.uint8).reshape(-1, 8, 8))
        np.save(tmp_path / "y.npy", labels.astype(np.int64))
        data = ["--data", tmp_path / "x.npy", "--labels", tmp_path / "y.npy"]
    else:
        np.savetxt(tmp_path / "t.csv", np.c_[labels, x], delimiter=",", fmt="%.9g",
                   header=",".join(["y"] + [f"p{i}" for i in range(64)]), comments="")
        data = ["--data", tmp_path / "t.csv", "--label-column", "y"]
    tool("gan", "train", *data, "--conditional", "--epochs", 1, "--batch", 32, "--noise-dim", 8, "--seed", 5,
         "--threads", 1, "--out", tmp_path / "c.safetensors")
    with genmodel.GAN(data_dim=64, noise_dim=8, n_classes=4, seed=5) as gan:
        gan.fit(x, 1, labels=labels, batch_size=32)
        gan.save(tmp_path / "py.safetensors")
    assert (tmp_path / "c.safetensors").read_bytes() == (tmp_path / "py.safetensors").read_bytes()


@pytest.mark.parametrize("form", ["idx", "npy", "png"])
def test_tool_writes_an_augmentation_set(tool, tmp_path, form):
    """`sample --per-class N --out-dataset DIR` writes what Python samples
    with the same labels, as a labelled dataset that reads back."""
    if form == "png" and not genmodel.have_png():
        pytest.skip("no libpng")
    path = tmp_path / "model.safetensors"
    with genmodel.VAE(**dict(TINY_VAE, n_classes=3)) as vae:
        vae.save(path)
    tool("vae", "sample", path, "--per-class", 4, "--out-dataset", tmp_path / "set", "--format", form)
    labels = np.repeat(np.arange(3), 4)
    with genmodel.VAE.load(path) as vae:
        want = vae.sample(12, labels=labels)
    with (genmodel.Dataset.open(tmp_path / "set" / "x.npy", labels_path=tmp_path / "set" / "y.npy") if form == "npy"
          else genmodel.Dataset.open(tmp_path / "set", format="png_dir") if form == "png"
          else genmodel.Dataset.load_dir(tmp_path / "set")) as ds:
        assert ds.shape == (4, 4) and ds.n_classes == 3
        x, got_labels = ds.gather()
    np.testing.assert_array_equal(got_labels, labels)
    np.testing.assert_array_equal(x, np.round(np.clip(want, 0, 1) * 255) / np.float32(255))


def test_tool_walks(tool, mnist_dir, tmp_path):
    """`vae walk` draws what VAE.interpolate and VAE.manifold return."""
    path = tmp_path / "model.safetensors"
    with genmodel.VAE(input_dim=64, latent_dim=2, enc_hidden=(8,), dec_hidden=(8,), seed=2) as vae:
        vae.save(path)
        with genmodel.Dataset.load_dir(mnist_dir, "t10k") as ds:
            x, _ = ds.gather(np.arange(6))
        genmodel.write_image_grid(tmp_path / "walk.pgm", vae.interpolate(x[0::2], x[1::2], 5).reshape(-1, 64),
                                  8, 8, cols=5)
        genmodel.write_image_grid(tmp_path / "manifold.pgm", vae.manifold(4), 8, 8, cols=4)
    tool("vae", "walk", path, "--data", mnist_dir, "--pairs", 3, "--steps", 5, "--png", tmp_path / "walk-c.pgm")
    tool("vae", "walk", path, "--manifold", 4, "--png", tmp_path / "manifold-c.pgm")
    assert (tmp_path / "walk-c.pgm").read_bytes() == (tmp_path / "walk.pgm").read_bytes()
    assert (tmp_path / "manifold-c.pgm").read_bytes() == (tmp_path / "manifold.pgm").read_bytes()


def test_tool_rgb_images_flow_through(tool, tmp_path):
    """A folder of RGB PNG images trains a conv VAE of 3 channels, and its
    samples come out as an RGB grid, the one Python writes."""
    if not genmodel.have_png():
        pytest.skip("no libpng")
    rng = np.random.default_rng(1)
    x = rng.random((24, 8, 8, 3)).astype(np.float32)
    genmodel.write_dataset(tmp_path / "rgb", x, np.arange(24) % 2, format="png_dir")
    tool("vae", "train", "--data", tmp_path / "rgb", "--conv", "4,8", "--hidden", 0, "--latent", 2, "--epochs", 1,
         "--batch", 8, "--threads", 1, "--out", tmp_path / "m.safetensors")
    info = tool("info", tmp_path / "m.safetensors")
    assert "image_channels           3" in info and "input_dim                192" in info
    tool("vae", "sample", tmp_path / "m.safetensors", "-n", 4, "--png", tmp_path / "s.ppm")
    with genmodel.VAE.load(tmp_path / "m.safetensors") as vae:
        genmodel.write_image_grid(tmp_path / "py.ppm", vae.sample(4).reshape(4, 8, 8, 3))
    data = (tmp_path / "s.ppm").read_bytes()
    assert data.startswith(b"P6\n22 22\n255\n") and data == (tmp_path / "py.ppm").read_bytes()


def test_tool_scores_and_maps(tool, mnist_dir, tmp_path):
    """`vae score --score KIND` prints VAE.score(kind=...); --map writes an
    RGB grid of 8 inputs a row, each row followed by their maps."""
    path = tmp_path / "model.safetensors"
    with genmodel.VAE(input_dim=64, latent_dim=2, enc_hidden=(8,), dec_hidden=(8,), seed=2) as vae:
        vae.save(path)
        with genmodel.Dataset.load_dir(mnist_dir, "t10k") as ds:
            x, _ = ds.gather()
        want = vae.score(x, kind="reconstruction")
    out = tool("vae", "score", path, "--data", mnist_dir, "--score", "reconstruction", "--map", tmp_path / "m.ppm",
               "--map-n", 10)
    np.testing.assert_allclose([float(v) for v in out.split()], want, rtol=1e-6, atol=1e-6)
    # 10 rows: 2 rows of 8 cells, each with its row of maps: 8 x (8 + 2) + 2 wide, 4 x (8 + 2) + 2 high
    data = (tmp_path / "m.ppm").read_bytes()
    assert data.startswith(b"P6\n82 42\n255\n") and len(data) == len(b"P6\n82 42\n255\n") + 82 * 42 * 3


def test_tool_fits_the_scoring(tool, mnist_dir, tmp_path, one_thread):
    """`vae train` keeps the aggregate posterior of the training rows: the
    tool's latent scores are Python's on that model, and Python's own
    fit_latent on the same rows agrees."""
    tool("vae", "train", "--data", mnist_dir, "--epochs", 1, "--hidden", 16, "--latent", 2, "--batch", 32,
         "--threads", 1, "--out", tmp_path / "m.safetensors")
    out = tool("vae", "score", tmp_path / "m.safetensors", "--data", mnist_dir, "--score", "latent")
    with genmodel.Dataset.load_dir(mnist_dir, "t10k") as ds:
        xt, _ = ds.gather()
    with genmodel.Dataset.load_dir(mnist_dir) as ds:
        x, _ = ds.gather()
    with genmodel.VAE.load(tmp_path / "m.safetensors") as vae:
        got = vae.score(xt, kind="latent")
        np.testing.assert_allclose([float(v) for v in out.split()], got, rtol=1e-6, atol=1e-6)
        knn = vae.score(xt)  # the default, latent_knn, as the tool's default
        np.testing.assert_allclose([float(v) for v in tool("vae", "score", tmp_path / "m.safetensors", "--data",
                                                           mnist_dir).split()], knn, rtol=1e-6, atol=1e-6)
        vae.fit_latent(x)
        np.testing.assert_allclose(vae.score(xt, kind="latent"), got, rtol=1e-5)
        np.testing.assert_allclose(vae.score(xt), knn, rtol=1e-5)


def test_tool_calibrates_and_flags(tool, mnist_dir, tmp_path):
    """`vae calibrate` keeps a threshold in the model; `score --flag` prints
    what VAE.flag returns."""
    path = tmp_path / "model.safetensors"
    with genmodel.VAE(input_dim=64, latent_dim=2, enc_hidden=(8,), dec_hidden=(8,), seed=2) as vae:
        vae.save(path)
    tool("vae", "calibrate", path, "--data", mnist_dir, "--fpr", 0.2, "--score", "reconstruction")
    out = tool("vae", "score", path, "--data", mnist_dir, "--flag")
    rows = np.array([[float(v) for v in line.split()] for line in out.splitlines()])
    with genmodel.Dataset.load_dir(mnist_dir, "t10k") as ds:
        x, _ = ds.gather()
    with genmodel.VAE.load(path) as vae:
        scores, p, flags = vae.flag(x)
    np.testing.assert_allclose(rows[:, 0], scores, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(rows[:, 1], p, atol=1e-6)
    np.testing.assert_array_equal(rows[:, 2], flags)
    assert abs(flags.mean() - 0.2) <= 1 / len(x)


def test_tool_refuses_a_table_of_another_width(tool, tmp_path):
    """A table whose column count is not the model's is refused by name,
    before any row is read as the model's."""
    import os
    import subprocess
    path = tmp_path / "model.safetensors"
    with genmodel.VAE(**TINY_VAE) as vae:
        vae.save(path)
    np.savetxt(tmp_path / "t.csv", np.zeros((5, 15)), delimiter=",")
    for command in (["score"], ["calibrate"], ["eval"], ["reconstruct", "--png", tmp_path / "r.pgm"]):
        result = subprocess.run([os.environ["GENMODEL_TOOL"], "vae", command[0], path, "--data", tmp_path / "t.csv",
                                 *command[1:]], capture_output=True, text=True)
        assert result.returncode == 1 and "has rows of 15 values, where the model takes 16" in result.stderr, \
            (command, result.stderr)


def write_csv(path, x, labels):
    np.savetxt(path, np.column_stack([x, labels]), delimiter=",", header="a,b,c,d,label", comments="", fmt="%.9g")


def test_tool_runs_the_table_workflow(tool, tmp_path):
    """A CSV table end to end: `train --standardize 1` fits each column's
    mean and deviation on the training rows (one class of them) and keeps
    them in the model, as Python's fit() does; `calibrate` and
    `score --flag` then flag the rows off the training data's pattern."""
    rng = np.random.default_rng(4)
    x, held, new = table(rng, 400), table(rng, 200), np.vstack([table(rng, 100), table(rng, 100, shift=1.0)])
    labels = np.r_[np.zeros(400), np.ones(50)]  # a second class the one-class model must not see
    write_csv(tmp_path / "train.csv", np.vstack([x, table(rng, 50, shift=3.0)]), labels)
    write_csv(tmp_path / "held.csv", held, np.zeros(200))
    write_csv(tmp_path / "new.csv", new, np.r_[np.zeros(100), np.ones(100)])
    path = tmp_path / "m.safetensors"
    tool("vae", "train", "--data", tmp_path / "train.csv", "--label-column", "label", "--class", 0,
         "--likelihood", "gaussian", "--standardize", 1, "--hidden", 16, "--latent", 2, "--epochs", 30,
         "--batch", 32, "--threads", 1, "--out", path)
    tensors, _ = read_safetensors(path.read_bytes())
    np.testing.assert_allclose(tensors["input.mean"], x.astype(np.float64).mean(0), rtol=1e-6)
    np.testing.assert_allclose(tensors["input.std"], x.astype(np.float64).std(0), rtol=1e-5)
    with genmodel.VAE(input_dim=4, latent_dim=2, enc_hidden=(16,), dec_hidden=(16,), likelihood="gaussian",
                      standardize=1) as vae:
        vae.fit(x, 1)
        np.testing.assert_array_equal(read_safetensors(vae.to_bytes())[0]["input.mean"], tensors["input.mean"])
    tool("vae", "calibrate", path, "--data", tmp_path / "held.csv", "--label-column", "label", "--fpr", 0.05,
         "--score", "reconstruction")
    out = tool("vae", "score", path, "--data", tmp_path / "new.csv", "--label-column", "label", "--flag")
    flags = np.array([float(line.split()[2]) for line in out.splitlines()])
    assert flags[:100].mean() <= 0.15 and flags[100:].mean() >= 0.8, (flags[:100].mean(), flags[100:].mean())
    with genmodel.VAE.load(path) as vae:  # Python reads the tool's model: the same flags
        np.testing.assert_array_equal(vae.flag(new)[2], flags.astype(bool))
        back = vae.reconstruct(x[:50])  # in the table's units, not standardized ones
        assert np.abs(back - x[:50]).mean(0).max() < 0.5 * x.std(0).max()
        assert (np.abs(back - x[:50]).mean(0) < x.std(0)).all()


def test_tool_refuses_a_constant_column(tool, tmp_path):
    import os
    import subprocess
    rng = np.random.default_rng(1)
    x = table(rng, 20)
    x[:, 2] = 7.0
    write_csv(tmp_path / "t.csv", x, np.zeros(20))
    result = subprocess.run([os.environ["GENMODEL_TOOL"], "vae", "train", "--data", tmp_path / "t.csv",
                             "--label-column", "label", "--likelihood", "gaussian", "--standardize", "1",
                             "--out", tmp_path / "m.safetensors"], capture_output=True, text=True)
    assert result.returncode == 1 and "column 2 of x (counting from 0) is constant (7 in every row)" in result.stderr
    assert not (tmp_path / "m.safetensors").exists()


def test_gan_score_is_minus_d(tool, mnist_dir, tmp_path):
    """`gan score` prints -D(x) of each row, as GAN.score returns it."""
    path = tmp_path / "gan.safetensors"
    with genmodel.GAN(**dict(TINY_GAN, data_dim=64)) as gan:
        gan.save(path)
    out = tool("gan", "score", path, "--data", mnist_dir)
    with genmodel.Dataset.load_dir(mnist_dir, "t10k") as ds:
        x, _ = ds.gather()
    with genmodel.GAN.load(path) as gan:
        want = gan.score(x)
        np.testing.assert_allclose(want, -gan.discriminate(x), rtol=0, atol=0)
    np.testing.assert_allclose([float(v) for v in out.split()], want, rtol=1e-6, atol=1e-6)
