"""genmodel: variational autoencoders, GANs and super-resolution on the CPU, from numpy.

A ctypes binding of libgenmodel. The library is found through
GENMODEL_LIBRARY (a full path), else the dynamic loader (libgenmodel.so.0),
else pkg-config's libdir; its major version must match this package's.

    import numpy as np, genmodel
    x, _ = genmodel.load_mnist()                      # Fashion-MNIST, (60000, 784)
    with genmodel.VAE(latent_dim=2, seed=1) as vae:
        history = vae.fit(x, epochs=5)                # per-epoch mean losses
        genmodel.write_image_grid("samples.png", vae.sample(64))
        vae.save("vae.safetensors")

Every failure raises a GenModelError subclass with the library's message.
See docs/python.md.
"""
from ._errors import (FileError, FormatError, GenModelError, InvalidArgumentError, MismatchError,
                      NoMemoryError, NumericError, StateError, UnsupportedError, VersionError)
from ._lib import __version__
from .checkpoint import CheckpointInfo, checkpoint_info, load
from .common import backend_name, get_num_threads, library_path, set_backend, set_num_threads, version
from .data import (FASHION_MNIST_DIR, Dataset, have_png, load_mnist, read_image, write_dataset, write_idx, write_image,
                   write_image_grid)
from .gan import GAN, GANLosses
from .sr import SR, SRLosses, SRScores
from .vae import VAE, VAELosses

__all__ = [
    "VAE", "VAELosses", "GAN", "GANLosses", "SR", "SRLosses", "SRScores",
    "Dataset", "load_mnist", "write_dataset", "write_image_grid", "write_idx", "write_image", "read_image", "have_png", "FASHION_MNIST_DIR",
    "CheckpointInfo", "checkpoint_info", "load",
    "version", "set_num_threads", "get_num_threads", "set_backend", "backend_name", "library_path",
    "__version__",
    "GenModelError", "InvalidArgumentError", "NoMemoryError", "FileError", "FormatError", "VersionError",
    "MismatchError", "StateError", "NumericError", "UnsupportedError",
]
