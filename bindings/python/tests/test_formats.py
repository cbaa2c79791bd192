"""Datasets from files numpy writes (Dataset.open, gm_dataset_open): every
NPY type, version, byte order and memory order the library reads, checked
against the array saved; CSV tables against np.loadtxt; errors that say
where."""
import numpy as np
import pytest

import genmodel

RNG = np.random.default_rng(7)

TYPES = ["<f4", ">f4", "<f8", ">f8", "|i1", "<i2", ">i2", "<i4", ">i8", "<u2", ">u4", "<u8", "|b1"]


def saved(tmp_path, name, array, version=None):
    path = tmp_path / name
    with open(path, "wb") as f:
        np.lib.format.write_array(f, array, version=version)
    return path


def values(dtype, shape):
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return (RNG.standard_normal(shape) * 100).astype(dt)
    if dt.kind == "b":
        return RNG.integers(0, 2, shape).astype(dt)
    lo = 0 if dt.kind == "u" else -100
    return RNG.integers(lo, 100, shape).astype(dt)


@pytest.mark.parametrize("dtype", TYPES)
@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_npy_types(tmp_path, dtype, version):
    a = values(dtype, (5, 7))
    with genmodel.Dataset.open(saved(tmp_path, "a.npy", a, version)) as ds:
        assert len(ds) == 5 and ds.dim == 7 and ds.shape == (1, 7) and ds.channels == 1
        x, labels = ds.gather()
    assert labels is None
    np.testing.assert_array_equal(x, a.astype(np.float32))


@pytest.mark.parametrize("order", ["C", "F"])
def test_npy_images(tmp_path, order):
    """uint8 images (N, H, W, C) in either memory order: pixels / 255, NHWC."""
    a = np.asarray(RNG.integers(0, 256, (4, 5, 3, 3)), dtype=np.uint8, order=order)
    a = np.asfortranarray(a) if order == "F" else a
    with genmodel.Dataset.open(saved(tmp_path, "img.npy", a)) as ds:
        assert ds.shape == (5, 3) and ds.channels == 3 and ds.dim == 45
        x, _ = ds.gather()
    np.testing.assert_array_equal(x, a.reshape(4, -1).astype(np.float32) / np.float32(255))


def test_npy_fortran_floats(tmp_path):
    a = np.asfortranarray(values("<f8", (6, 2, 4)))
    with genmodel.Dataset.open(saved(tmp_path, "f.npy", a)) as ds:
        assert ds.shape == (2, 4)
        np.testing.assert_array_equal(ds.gather()[0], a.reshape(6, -1).astype(np.float32))


@pytest.mark.parametrize("dtype", ["|u1", "<i8", ">i4"])
def test_npy_labels(tmp_path, dtype):
    x = values("<f4", (6, 3))
    y = np.array([3, 0, 1, 3, 2, 0], dtype=dtype)
    with genmodel.Dataset.open(saved(tmp_path, "x.npy", x), labels_path=saved(tmp_path, "y.npy", y)) as ds:
        assert ds.n_classes == 4
        np.testing.assert_array_equal(ds.gather()[1], y.astype(np.int32))


def test_npy_errors(tmp_path):
    with pytest.raises(genmodel.FormatError, match="finite"):
        genmodel.Dataset.open(saved(tmp_path, "nan.npy", np.array([[1.0, np.nan]])))
    with pytest.raises(genmodel.FormatError, match="descr"):
        genmodel.Dataset.open(saved(tmp_path, "c.npy", np.zeros((2, 2), np.complex64)))
    with pytest.raises(genmodel.FormatError, match="1 dimension"):
        genmodel.Dataset.open(saved(tmp_path, "v.npy", np.zeros(3, np.float32)))
    path = saved(tmp_path, "cut.npy", np.zeros((4, 4), np.float32))
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(genmodel.FormatError, match="holds 61 after byte"):
        genmodel.Dataset.open(path)
    with pytest.raises(genmodel.FileError):
        genmodel.Dataset.open(tmp_path / "missing.npy")


def test_csv_against_loadtxt(tmp_path):
    a = values("<f8", (20, 6))
    path = tmp_path / "t.csv"
    np.savetxt(path, a, delimiter=",", header="a,b,c,d,e,f", comments="", fmt="%.9g")
    with genmodel.Dataset.open(path) as ds:
        assert len(ds) == 20 and ds.dim == 6
        x, labels = ds.gather()
    assert labels is None
    np.testing.assert_array_equal(x, np.loadtxt(path, delimiter=",", skiprows=1).astype(np.float32))


def test_csv_label_column(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("x\tclass\ty\n0.5\t2\t1\n1.5\t0\t-1\n")
    for column in ("class", 1, "1"):
        with genmodel.Dataset.open(path, delimiter="\t", label_column=column) as ds:
            x, labels = ds.gather()
            np.testing.assert_array_equal(x, [[0.5, 1], [1.5, -1]])
            np.testing.assert_array_equal(labels, [2, 0])
    with pytest.raises(ValueError, match="no column named 'colour'"):
        genmodel.Dataset.open(path, delimiter="\t", label_column="colour")


def test_csv_errors(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("1,2\n3,x\n")
    with pytest.raises(genmodel.FormatError, match="line 2, column 2"):
        genmodel.Dataset.open(path)
    path.write_text("1,2\n3\n")
    with pytest.raises(genmodel.FormatError, match="line 2 has 1 cells"):
        genmodel.Dataset.open(path, format="csv")
    with pytest.raises(ValueError, match="format"):
        genmodel.Dataset.open(path, format="xlsx")


def composite(img):
    """What the library makes of a PIL image: RGB, alpha onto black."""
    rgba = np.asarray(img.convert("RGBA"), dtype=np.uint32)
    return ((rgba[..., :3] * rgba[..., 3:] + 127) // 255).astype(np.uint8)


def test_png_folder_against_pil(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(3)
    made = {}
    for cls, modes in (("zebra", ["L", "RGB"]), ("ant", ["RGBA", "P", "LA"])):
        (tmp_path / cls).mkdir()
        for i, mode in enumerate(modes):
            img = Image.fromarray(rng.integers(0, 256, (5, 4, 4), dtype=np.uint8), "RGBA").convert(mode)
            if mode == "P":
                img.info["transparency"] = 3
            img.save(tmp_path / cls / f"{i}.png", **({"transparency": 3} if mode == "P" else {}))
            made[(cls, i)] = composite(Image.open(tmp_path / cls / f"{i}.png"))
    with genmodel.Dataset.open(tmp_path) as ds:
        assert len(ds) == 5 and ds.shape == (5, 4) and ds.channels == 3 and ds.n_classes == 2
        x, labels = ds.gather()
    order = [("ant", 0), ("ant", 1), ("ant", 2), ("zebra", 0), ("zebra", 1)]
    np.testing.assert_array_equal(labels, [0, 0, 0, 1, 1])
    want = np.stack([made[k] for k in order]).reshape(5, -1).astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(x, want)


def test_png_folder_resize_and_errors(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    Image.fromarray(np.zeros((6, 8), np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(np.full((3, 4), 200, np.uint8)).save(tmp_path / "b.png")
    with pytest.raises(genmodel.FormatError, match="b.png' is 4 x 3 pixels"):
        genmodel.Dataset.open(tmp_path)
    with genmodel.Dataset.open(tmp_path, resize=(2, 2)) as ds:
        assert ds.shape == (2, 2) and ds.channels == 1
        np.testing.assert_array_equal(ds.gather()[0] * 255, [[0] * 4, [200] * 4])
    (tmp_path / "c.png").write_bytes((tmp_path / "a.png").read_bytes()[:40])
    with pytest.raises(genmodel.FormatError, match="c.png' is not a valid PNG"):
        genmodel.Dataset.open(tmp_path, resize=(2, 2))


@pytest.mark.parametrize("form", ["idx", "npy", "png_dir"])
@pytest.mark.parametrize("channels", [1, 3])
def test_write_dataset_round_trip(tmp_path, form, channels):
    """What write_dataset writes, Dataset.open reads back: the same pixels
    (as bytes), shape, channels and labels."""
    if form == "png_dir" and not genmodel.have_png():
        pytest.skip("no libpng")
    x = np.random.default_rng(5).random((12, 5, 4, channels)).astype(np.float32)
    labels = np.arange(12) % 11          # 11 classes: "00".."10" must sort in label order
    genmodel.write_dataset(tmp_path / "out", x, labels, format=form)
    path = tmp_path / "out"
    with (genmodel.Dataset.open(path / "x.npy", labels_path=path / "y.npy") if form == "npy" else
          genmodel.Dataset.load_dir(path) if form == "idx" else genmodel.Dataset.open(path)) as ds:
        assert ds.shape == (5, 4) and ds.channels == channels and ds.n_classes == 11
        got, got_labels = ds.gather()
    order = np.argsort(labels, kind="stable") if form == "png_dir" else np.arange(12)  # a PNG folder is by class
    np.testing.assert_array_equal(got_labels, labels[order])
    np.testing.assert_array_equal(got, np.round(x.reshape(12, -1)[order] * 255) / np.float32(255))


def test_write_dataset_refuses(tmp_path):
    with pytest.raises(ValueError, match="IDX labels are bytes"):
        genmodel.write_dataset(tmp_path / "o", np.zeros((2, 4)), [0, 300], format="idx")
    with pytest.raises(ValueError, match="format"):
        genmodel.write_dataset(tmp_path / "o", np.zeros((2, 4)), format="csv")
    (tmp_path / "file").write_text("x")
    with pytest.raises(genmodel.FileError, match="not a folder"):
        genmodel.write_dataset(tmp_path / "file", np.zeros((2, 4)))
