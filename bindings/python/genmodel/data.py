"""Datasets and images (data.h): IDX, NPY and CSV files in, IDX files and
image grids out.

A Dataset keeps image pixels as uint8, as the file has them, and gather()
converts the rows asked for to float32 in [0, 1]; a table (CSV, or NPY of
another type than uint8) is kept as float32 and gathered as it is. A folder
opened with keep_sizes=True keeps each image at its own size: read it one
image at a time with image().
"""
from __future__ import annotations

import math
from ctypes import POINTER, byref, c_float, c_int32, c_void_p, sizeof
from typing import Optional, Sequence, TypeVar, Union

import numpy as np
import numpy.typing as npt

from . import _convert
from ._handle import Handle
from ._lib import gm_dataset_options, lib
from ._model import Path

D = TypeVar("D", bound="Dataset")

_FORMATS = {"auto": 0, "idx": 1, "npy": 2, "csv": 3, "png_dir": 4}

#: Where Debian's dataset-fashion-mnist package puts Fashion-MNIST.
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"


class Dataset(Handle):
    """Images from an IDX file (raw or gzip) and, optionally, their labels.

    ``Dataset(images_path, labels_path=None)`` loads the files; see
    ``Dataset.load_dir`` for the MNIST family's four-file layout. Raises
    FileError or FormatError.

    The library only reads a dataset, so threads may gather from one at
    once; close() waits for them.
    """

    _concurrent_calls = True

    def __init__(self, images_path: Path, labels_path: Optional[Path] = None) -> None:
        images_path = _convert.path(images_path, "images_path")
        labels_path = None if labels_path is None else _convert.path(labels_path, "labels_path")
        out = c_void_p()
        lib.gm_dataset_load(images_path, labels_path, byref(out))
        self._own(out, lib.gm_dataset_free)

    @classmethod
    def open(cls: type[D], path: Path, labels_path: Optional[Path] = None, format: str = "auto",
             delimiter: str = ",", header: Optional[bool] = None, label_column: Union[str, int, None] = None,
             resize: Optional[Sequence[int]] = None, keep_sizes: bool = False) -> D:
        """A dataset from an IDX, NPY or CSV file or a folder of PNG images
        (gm_dataset_open; docs/data.md): the format is told from the
        content unless named ('idx', 'npy', 'csv', 'png_dir').
        labels_path: an IDX or NPY file of one integer label per row. For
        CSV: the delimiter, header True/False (None: when a cell of the
        first line is not a number), and label_column, the labels' column
        by header name or 0-based index. For a folder (class folders give
        the labels): resize=(height, width) to bring every image to that
        size, or keep_sizes=True to keep each at its own (a ragged dataset:
        gather() refuses it, image(i) reads image i, shape is (0, 0)).
        Raises FileError or FormatError (naming the file and where in it),
        ValueError for a bad argument."""
        if not isinstance(format, str) or not isinstance(delimiter, str):
            raise TypeError(f"format and delimiter must be str (got {type(format).__name__}, "
                            f"{type(delimiter).__name__})")
        if format not in _FORMATS:
            raise ValueError(f"format must be one of {', '.join(_FORMATS)} (got {format!r})")
        if len(delimiter) != 1 or ord(delimiter) > 127:
            raise ValueError(f"delimiter must be one ASCII character (got {delimiter!r})")
        o = gm_dataset_options()
        lib.gm_dataset_options_init_size(byref(o), sizeof(o))
        o.format = _FORMATS[format]
        o.labels_path = None if labels_path is None else _convert.path(labels_path, "labels_path")
        o.delimiter = ord(delimiter)
        o.header = -1 if header is None else int(bool(header))
        if label_column is not None:
            o.label_column = str(label_column).encode() if isinstance(label_column, int) else \
                _convert.text(label_column, "label_column", "a column's name or index")
        if resize is not None:
            o.resize_height, o.resize_width = (_convert.int32(v, "resize") for v in resize)
        if not isinstance(keep_sizes, (bool, np.bool_)):
            raise TypeError(f"keep_sizes must be True or False (got {type(keep_sizes).__name__})")
        o.keep_sizes = int(keep_sizes)
        out = c_void_p()
        lib.gm_dataset_open(_convert.path(path, "path"), byref(o), byref(out))
        ds = cls.__new__(cls)
        ds._own(out, lib.gm_dataset_free)
        return ds

    @classmethod
    def load_dir(cls: type[D], directory: Path = FASHION_MNIST_DIR, split: str = "train") -> D:
        """The split 'train' or 't10k' of an MNIST-family directory:
        SPLIT-images-idx3-ubyte and SPLIT-labels-idx1-ubyte, gzipped or not."""
        out = c_void_p()
        lib.gm_dataset_load_dir(_convert.path(directory, "directory"),
                                _convert.text(split, "split", "'train' or 't10k'"), byref(out))
        ds = cls.__new__(cls)
        ds._own(out, lib.gm_dataset_free)
        return ds

    def __len__(self) -> int:
        """The number of samples."""
        with self._use() as h:
            return int(lib.gm_dataset_count(h))

    @property
    def dim(self) -> int:
        """Floats per sample (784 for MNIST)."""
        with self._use() as h:
            return int(lib.gm_dataset_dim(h))

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of a sample as an image; (0, 0) when the images
        have their own sizes (keep_sizes: see image_size)."""
        with self._use() as h:
            return (int(lib.gm_dataset_height(h)), int(lib.gm_dataset_width(h)))

    @property
    def channels(self) -> int:
        """Values per pixel: 1 (grey, or a table), 3 (RGB), ..."""
        with self._use() as h:
            return int(lib.gm_dataset_channels(h))

    @property
    def has_labels(self) -> bool:
        """True when every sample has a label."""
        with self._use() as h:
            return bool(lib.gm_dataset_has_labels(h))

    @property
    def n_classes(self) -> int:
        """1 + the largest label (0 without labels)."""
        with self._use() as h:
            return int(lib.gm_dataset_n_classes(h))

    def gather(self, indices: Optional[npt.ArrayLike] = None
               ) -> tuple[npt.NDArray[np.float32], Optional[npt.NDArray[np.int32]]]:
        """Rows `indices` (all rows when None) as (x, labels): x float32
        (n, dim), pixels in [0, 1] and a table's values as they are, labels int32 (n,) or None without labels. No
        indices give n = 0, as indexing a numpy array with [] does."""
        if indices is None:
            indices = np.arange(len(self), dtype=np.int32)
        indices = _convert.int32s(indices, None, "indices")
        x = _convert.floats(len(indices), self.dim)
        labels = np.empty(len(indices), dtype=np.int32) if self.has_labels else None
        if len(indices):  # the library takes n >= 1; nothing to copy otherwise
            with self._use() as h:
                lib.gm_dataset_gather(h, indices, len(indices), x, labels)
        return x, labels

    def image_size(self, i: int) -> tuple[int, int]:
        """(height, width) of image i: its own with keep_sizes, else the
        shape all share. ValueError for a table or an i out of range."""
        i = _convert.int32(i, "i")
        height, width = c_int32(), c_int32()
        with self._use() as h:
            lib.gm_dataset_image_size(h, i, byref(height), byref(width))
        return height.value, width.value

    def image(self, i: int) -> tuple[npt.NDArray[np.float32], Optional[int]]:
        """Image i as (x, label): x float32 (height, width, channels) in
        [0, 1], label an int, or None without labels. Reads images of their
        own sizes (keep_sizes) and of one shared size alike; ValueError for
        a table or an i out of range."""
        i = _convert.int32(i, "i")
        height, width, label = c_int32(), c_int32(), c_int32()
        with self._use() as h:
            lib.gm_dataset_image_size(h, i, byref(height), byref(width))
            x = np.empty((height.value, width.value, int(lib.gm_dataset_channels(h))), dtype=np.float32)
            labelled = bool(lib.gm_dataset_has_labels(h))
            lib.gm_dataset_image(h, i, x.reshape(-1), byref(label) if labelled else None)
        return x, label.value if labelled else None

    def __repr__(self) -> str:
        try:
            return f"<Dataset {len(self)} x {self.shape[0]}x{self.shape[1]}, {self.n_classes} classes>"
        except ValueError:  # closed, perhaps by another thread just now
            return "<Dataset (closed)>"


def load_mnist(directory: Path = FASHION_MNIST_DIR, split: str = "train"
               ) -> tuple[npt.NDArray[np.float32], Optional[npt.NDArray[np.int32]]]:
    """(x, labels) of an MNIST-family split as numpy arrays: x float32
    (n, 784) in [0, 1], labels int32 (n,)."""
    with Dataset.load_dir(directory, split) as ds:
        return ds.gather()


def _images(images: npt.ArrayLike, height: Optional[int],
            width: Optional[int]) -> tuple[npt.NDArray[np.float32], int, int]:
    """images as float32 (n, height * width) and its height and width. A
    3-D array gives them; for a 2-D one they default to the square that
    holds a row (a 1-pixel-high strip if there is none)."""
    images = np.asarray(images)
    height, width = (None if v is None else _convert.int32(v, name) for v, name in ((height, "height"), (width, "width")))
    if min(height or 1, width or 1) < 1:
        raise ValueError(f"height and width must be >= 1 (got {height}, {width})")
    if images.ndim == 3:
        height, width = images.shape[1:] if height is None else (height, width)
        images = images.reshape(len(images), -1)
    if images.ndim != 2:
        raise ValueError(f"images must have shape (n, height * width) or (n, height, width), got {images.shape}")
    dim = images.shape[1]
    if height is None:
        side = math.isqrt(dim)
        height = side if side * side == dim else 1
    if width is None:
        width = dim // height
    if height * width != dim:
        raise ValueError(f"images of {height}x{width} pixels need rows of {height * width} values, got {dim}")
    return _convert.rows(images, dim, "images"), height, width


def write_image_grid(path: Path, images: npt.ArrayLike, height: Optional[int] = None, width: Optional[int] = None,
                     cols: Optional[int] = None) -> None:
    """Write images, floats in [0, 1], as one grid of `cols` cells per row
    (default: a square-ish grid): PNG when path ends in .png
    (UnsupportedError in a build without libpng; see have_png()), binary
    PGM (PPM for colour) otherwise. images (n, height, width, 3) are RGB;
    any other shape is grey."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[3] == 3:
        n, height, width = images.shape[:3]
        cols = math.ceil(math.sqrt(n)) if cols is None else cols
        lib.gm_image_write_grid_channels(_convert.path(path), _convert.rows(images.reshape(n, -1), height * width * 3,
                                                                            "images"),
                                         n, height, width, 3, _convert.int32(cols, "cols"))
        return
    images, height, width = _images(images, height, width)
    cols = math.ceil(math.sqrt(len(images))) if cols is None else cols
    lib.gm_image_write_grid(_convert.path(path), images, len(images), height, width, _convert.int32(cols, "cols"))


def write_idx(path: Path, images: npt.ArrayLike, height: Optional[int] = None, width: Optional[int] = None) -> None:
    """Write images, floats in [0, 1], as an uncompressed IDX file of
    unsigned bytes (n, height, width): the format the datasets come in."""
    images, height, width = _images(images, height, width)
    lib.gm_idx_write_images(_convert.path(path), images, len(images), height, width)


def write_image(path: Path, image: npt.ArrayLike) -> None:
    """Write one image, floats in [0, 1], (h, w) grey or (h, w, c) with c
    1 or 3, as PNG when path ends in .png (UnsupportedError in a build
    without libpng), binary PGM or PPM otherwise."""
    a = _convert.array(image, "image")
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (1, 3)):
        raise ValueError(f"image must have shape (h, w) or (h, w, c) with c 1 or 3, got {a.shape}")
    h, w = (_convert.count(side, "the shape of image") for side in a.shape[:2])
    c = a.shape[2] if a.ndim == 3 else 1
    lib.gm_image_write(_convert.path(path), a, h, w, c)


def read_image(path: Path) -> npt.NDArray[np.float32]:
    """One PNG image (grey, RGB, palette, alpha, 8 or 16 bits) as float32
    in [0, 1]: (h, w) when grey, (h, w, 3) for colour; alpha composited
    onto black."""
    h, w, c = c_int32(), c_int32(), c_int32()
    pixels = POINTER(c_float)()
    lib.gm_image_read(_convert.path(path), byref(h), byref(w), byref(c), byref(pixels))
    try:
        flat = np.ctypeslib.as_array(pixels, shape=(h.value * w.value * c.value,)).copy()
    finally:
        lib.gm_buffer_free(pixels)
    return flat.reshape((h.value, w.value) if c.value == 1 else (h.value, w.value, c.value))


def have_png() -> bool:
    """True when this build of the library writes PNG."""
    return bool(lib.gm_have_png())


def write_dataset(directory: Path, x: npt.ArrayLike, labels: Optional[npt.ArrayLike] = None, format: str = "npy",
                  shape: Optional[Sequence[int]] = None) -> None:
    """Write samples x, floats in [0, 1] (n, dim) or (n, height, width[,
    channels]), and their labels (n ints, or None) as a dataset that
    Dataset.open reads back (gm_dataset_write): 'idx' an MNIST-family
    directory (labels 0-255), 'npy' x.npy and y.npy, 'png_dir' a folder of
    PNG images per label (1 or 3 channels). shape=(height, width,
    channels) for 2-D x; the default is a square of one channel, or a
    1-pixel-high strip."""
    if not isinstance(format, str):
        raise TypeError(f"format must be a str, got {type(format).__name__}")
    if format not in ("idx", "npy", "png_dir"):
        raise ValueError(f"format must be 'idx', 'npy' or 'png_dir' (got {format!r})")
    x = np.asarray(x)
    if shape is None and x.ndim in (3, 4):
        shape = x.shape[1:] + ((1,) if x.ndim == 3 else ())
    x = x.reshape(len(x), -1) if x.ndim in (3, 4) else x
    if x.ndim != 2:
        raise ValueError(f"x must have shape (n, dim) or (n, height, width[, channels]), got {x.shape}")
    if shape is None:
        side = math.isqrt(x.shape[1])
        shape = (side, side, 1) if side * side == x.shape[1] else (1, x.shape[1], 1)
    height, width, channels = (_convert.int32(v, "shape") for v in shape)
    x = _convert.rows(x, height * width * channels, "x")
    labels = None if labels is None else _convert.int32s(labels, len(x), "labels")
    lib.gm_dataset_write(_convert.path(directory, "directory"), _FORMATS[format], x, labels, len(x), height, width,
                         channels)
