"""Process-wide settings, the library's version and where it was loaded
from (common.h)."""
from __future__ import annotations

from . import _convert
from ._lib import lib, path


def library_path() -> str:
    """The libgenmodel this package loaded: the path or soname it was
    opened by (GENMODEL_LIBRARY, the copy installed with the package,
    libgenmodel.so.0 through the dynamic loader, or pkg-config's libdir)."""
    return path


def version() -> str:
    """The loaded library's version as a string, e.g. '0.1.0'."""
    return lib.gm_version_string().decode()


def set_num_threads(n: int) -> None:
    """Set how many threads each model works with (n >= 1). Process-wide:
    it changes the setting for every model, and OpenBLAS's count too (numpy's
    BLAS as well, if numpy shares the same OpenBLAS). To train several models
    from Python threads, set 1 and parallelise across models."""
    lib.gm_set_num_threads(_convert.int32(n, "n"))


def get_num_threads() -> int:
    """How many threads each model works with."""
    return int(lib.gm_get_num_threads())


def set_backend(name: str) -> None:
    """Choose the backend of the matrix products: 'openblas' or 'onednn'
    (in builds with oneDNN; UnsupportedError otherwise). Process-wide. Results
    are bit-identical within a backend only."""
    lib.gm_set_backend(_convert.text(name, "name", "'openblas' or 'onednn'"))


def backend_name() -> str:
    """The backend in use: 'openblas' or 'onednn'."""
    return lib.gm_backend_name().decode()
