"""Datasets from IDX files and images written by the library."""
import gzip
import os

import numpy as np
import pytest

import genmodel
from helpers import write_idx_labels


@pytest.fixture
def images():
    """Ten 3x4 images with distinct pixels, exactly representable as bytes."""
    return (np.arange(10 * 12).reshape(10, 12) % 256 / 255).astype(np.float32)


def test_idx_round_trip(images, tmp_path):
    genmodel.write_idx(tmp_path / "x.idx3", images, 3, 4)
    write_idx_labels(tmp_path / "y.idx1", np.arange(10) % 7)
    with genmodel.Dataset(tmp_path / "x.idx3", tmp_path / "y.idx1") as ds:
        assert (len(ds), ds.dim, ds.shape, ds.has_labels, ds.n_classes) == (10, 12, (3, 4), True, 7)
        x, labels = ds.gather()
        assert np.array_equal(x, images) and np.array_equal(labels, np.arange(10) % 7)
        x, labels = ds.gather([9, 0, 9])
        assert np.array_equal(x, images[[9, 0, 9]]) and labels.tolist() == [2, 0, 2]
        with pytest.raises(genmodel.InvalidArgumentError):
            ds.gather([10])
        assert repr(ds) == "<Dataset 10 x 3x4, 7 classes>"


def test_images_without_labels_and_gzip(images, tmp_path):
    genmodel.write_idx(tmp_path / "x.idx3", images.reshape(10, 3, 4))  # the shape from a 3-D array
    (tmp_path / "x.idx3.gz").write_bytes(gzip.compress((tmp_path / "x.idx3").read_bytes()))
    with genmodel.Dataset(tmp_path / "x.idx3.gz") as ds:
        x, labels = ds.gather()
        assert labels is None and not ds.has_labels and ds.n_classes == 0
        assert np.array_equal(x, images)


def test_load_dir_and_errors(images, tmp_path):
    genmodel.write_idx(tmp_path / "t10k-images-idx3-ubyte", images, 3, 4)
    write_idx_labels(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(10))
    with genmodel.Dataset.load_dir(tmp_path, "t10k") as ds:
        assert len(ds) == 10
    with pytest.raises(genmodel.FileError, match="train-images-idx3-ubyte"):
        genmodel.Dataset.load_dir(tmp_path, "train")
    with pytest.raises(genmodel.InvalidArgumentError):
        genmodel.Dataset.load_dir(tmp_path, "validation")
    (tmp_path / "junk").write_bytes(b"\x00" * 100)
    with pytest.raises(genmodel.FormatError):
        genmodel.Dataset(tmp_path / "junk")


@pytest.mark.skipif(not os.path.isdir(genmodel.FASHION_MNIST_DIR), reason="dataset-fashion-mnist is not installed")
def test_load_mnist():
    x, labels = genmodel.load_mnist(split="t10k")
    assert x.shape == (10000, 784) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert labels.dtype == np.int32 and set(labels.tolist()) == set(range(10))


def read_pgm(path):
    data = path.read_bytes()
    magic, width, height, maxval, pixels = data.split(maxsplit=4)
    assert (magic, maxval) == (b"P5", b"255")
    return np.frombuffer(pixels, np.uint8).reshape(int(height), int(width))


def test_image_grid(images, tmp_path):
    genmodel.write_image_grid(tmp_path / "grid.pgm", images, 3, 4, cols=5)
    grid = read_pgm(tmp_path / "grid.pgm")
    assert grid.shape == (2 * (3 + 2) + 2, 5 * (4 + 2) + 2)
    assert np.array_equal(grid[2:5, 2:6], np.round(images[0] * 255).reshape(3, 4))
    with pytest.raises(ValueError, match="images of 5x5 pixels need rows of 25 values, got 12"):
        genmodel.write_image_grid(tmp_path / "bad.pgm", images, 5, 5)


def test_image_grid_defaults_to_square_cells_and_grid(tmp_path):
    genmodel.write_image_grid(tmp_path / "grid.pgm", np.zeros((10, 16)))
    assert read_pgm(tmp_path / "grid.pgm").shape == (3 * 6 + 2, 4 * 6 + 2)


@pytest.mark.skipif(not genmodel.have_png(), reason="this build has no PNG support")
def test_png_grid(images, tmp_path):
    genmodel.write_image_grid(tmp_path / "grid.PNG", images, 3, 4)
    assert (tmp_path / "grid.PNG").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_gather_of_no_indices_is_empty(images, tmp_path):
    # as x[[]] is for a numpy array: whatever dtype the empty sequence has
    genmodel.write_idx(tmp_path / "x.idx3", images, 3, 4)
    write_idx_labels(tmp_path / "y.idx1", np.arange(10) % 7)
    with genmodel.Dataset(tmp_path / "x.idx3", tmp_path / "y.idx1") as ds, genmodel.Dataset(tmp_path / "x.idx3") as bare:
        for indices in ([], (), np.array([]), np.array([], np.int64)):
            x, labels = ds.gather(indices)
            assert (x.shape, x.dtype, labels.shape, labels.dtype) == ((0, 12), np.float32, (0,), np.int32)
            assert bare.gather(indices)[1] is None and bare.gather(indices)[0].shape == (0, 12)
        with pytest.raises(ValueError, match=r"indices must have shape \(n,\)"):
            ds.gather(np.zeros((0, 1), np.int32))


def _write_png(path, image, scratch):
    """image (h, w, c) in [0, 1] as the PNG file path, written by
    write_dataset into the folder scratch"""
    genmodel.write_dataset(scratch, image[None], format="png_dir")
    path.parent.mkdir(parents=True, exist_ok=True)
    next(scratch.glob("*.png")).rename(path)


@pytest.mark.skipif(not genmodel.have_png(), reason="this build has no PNG support")
def test_keep_sizes_reads_each_image_at_its_size(tmp_path):
    rng = np.random.default_rng(7)
    made = {("bag", "1"): rng.random((2, 3, 1)), ("bag", "2"): rng.random((5, 4, 3)),
            ("shoe", "1"): rng.random((1, 6, 1))}
    for (cls, name), image in made.items():
        _write_png(tmp_path / "photos" / cls / f"{name}.png", image.astype(np.float32), tmp_path / "scratch")
    with pytest.raises(genmodel.FormatError, match="ask for a resize"):
        genmodel.Dataset.open(tmp_path / "photos")
    with genmodel.Dataset.open(tmp_path / "photos", keep_sizes=True) as ds:
        assert (len(ds), ds.channels, ds.n_classes, ds.dim, ds.shape) == (3, 3, 2, 0, (0, 0))
        for i, (key, label) in enumerate(zip(made, [0, 0, 1])):
            want = np.round(np.broadcast_to(made[key], made[key].shape[:2] + (3,)) * 255) / np.float32(255)
            assert ds.image_size(i) == want.shape[:2]
            x, got_label = ds.image(i)
            assert x.dtype == np.float32 and got_label == label
            np.testing.assert_array_equal(x, want.astype(np.float32))
        with pytest.raises(genmodel.InvalidArgumentError, match="one at a time with gm_dataset_image"):
            ds.gather()
        with pytest.raises(genmodel.InvalidArgumentError, match="outside"):
            ds.image(3)
    with pytest.raises(genmodel.InvalidArgumentError, match="keep_sizes"):
        genmodel.Dataset.open(tmp_path / "photos", keep_sizes=True, resize=(2, 2))
    with pytest.raises(TypeError, match="keep_sizes"):
        genmodel.Dataset.open(tmp_path / "photos", keep_sizes="yes")


def test_image_of_an_ordinary_dataset_and_a_table(images, tmp_path):
    genmodel.write_idx(tmp_path / "x.idx3", images, 3, 4)
    with genmodel.Dataset(tmp_path / "x.idx3") as ds:
        assert ds.image_size(9) == (3, 4)
        x, label = ds.image(9)
        assert label is None and x.shape == (3, 4, 1)
        np.testing.assert_array_equal(x.reshape(-1), images[9])
    (tmp_path / "t.csv").write_text("1,2\n3,4\n")
    with genmodel.Dataset.open(tmp_path / "t.csv") as ds:
        with pytest.raises(genmodel.InvalidArgumentError, match="table"):
            ds.image_size(0)
    with pytest.raises(genmodel.InvalidArgumentError, match="keep_sizes is for folders"):
        genmodel.Dataset.open(tmp_path / "t.csv", keep_sizes=True)


@pytest.mark.skipif(not genmodel.have_png(), reason="a build without libpng")
def test_image_round_trip(tmp_path):
    """write_image then read_image: the 8-bit levels, grey as (h, w) and
    colour as (h, w, 3); a file that is not a PNG is the library's error."""
    rng = np.random.default_rng(0)
    for shape in ((5, 7), (4, 6, 3)):
        x = rng.random(shape).astype(np.float32)
        genmodel.write_image(tmp_path / "x.png", x)
        back = genmodel.read_image(tmp_path / "x.png")
        assert back.shape == shape and back.dtype == np.float32
        np.testing.assert_allclose(back, np.round(x * 255) / 255, atol=1e-7)
    (tmp_path / "no.png").write_bytes(b"not a png")
    with pytest.raises(genmodel.FormatError, match="no.png"):
        genmodel.read_image(tmp_path / "no.png")
    with pytest.raises(ValueError, match="image must have shape"):
        genmodel.write_image(tmp_path / "y.png", np.zeros((2, 3, 2)))
