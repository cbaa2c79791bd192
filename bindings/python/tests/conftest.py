"""Fixtures shared by the tests. GENMODEL_LIBRARY (set by meson test)
chooses the library under test; GENMODEL_TOOL, when set, enables the tests
against the genmodel command-line tool."""
import os
import subprocess

import pytest

import genmodel
from helpers import patterns, write_idx_labels


@pytest.fixture
def tool():
    """Run the genmodel tool: tool(*args) -> its standard output."""
    path = os.environ.get("GENMODEL_TOOL")
    if not path:
        pytest.skip("GENMODEL_TOOL is not set")

    def run(*args):
        result = subprocess.run([path, *map(str, args)], capture_output=True, text=True)
        assert result.returncode == 0, f"genmodel {' '.join(map(str, args))}: {result.stderr}"
        return result.stdout

    return run


@pytest.fixture
def one_thread():
    """OpenBLAS on one thread for the test (the setting is process-wide):
    results are bit-identical only for the same thread count."""
    before = genmodel.get_num_threads()
    genmodel.set_num_threads(1)
    yield
    genmodel.set_num_threads(before)


@pytest.fixture
def mnist_dir(tmp_path):
    """An MNIST-family directory of 8x8 binary images in 4 classes: 100 in
    the train split, 20 in t10k."""
    for split, n, seed in (("train", 100, 0), ("t10k", 20, 1)):
        x, labels = patterns(n, dim=64, seed=seed)
        genmodel.write_idx(tmp_path / f"{split}-images-idx3-ubyte", x, 8, 8)
        write_idx_labels(tmp_path / f"{split}-labels-idx1-ubyte", labels)
    return tmp_path
