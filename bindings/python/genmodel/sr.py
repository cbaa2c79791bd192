"""Super-resolution (sr.h): a convolutional upscaler by 2, 3 or 4.

Arrays are float in [0, 1], channels last: an image (h, w) or (h, w, c)
with c 1 (grey) or 3 (RGB); a batch of training patches (n, h, w, C), C
the model's channels (1: the luminance Y, 3: RGB), and their
high-resolution side (n, scale h, scale w, C). Inputs of another dtype or
layout are converted; float32 C-contiguous ones are used in place.
"""
from __future__ import annotations

from ctypes import byref
from typing import Any, Callable, NamedTuple, Optional

import numpy as np
import numpy.typing as npt

from . import _convert
from ._config import ConfigSpec, library_fields
from ._lib import MODEL_KINDS, check_mirror, gm_sr_config, gm_sr_losses, gm_sr_scores, lib
from ._model import Checkpointed
from .data import Dataset


class SRLosses(NamedTuple):
    """What a training step saw: the pixel loss, the upscaler's adversarial
    loss (unweighted) and the discriminator's loss (both 0 without a
    discriminator)."""

    pixel: float
    g_adv: float
    d_loss: float


class SRScores(NamedTuple):
    """How an upscaler fares on a dataset's images (SR.evaluate): how many
    were measured, and the mean PSNR (dB) and SSIM of the model and of
    bicubic interpolation."""

    images: int
    psnr: float
    ssim: float
    bicubic_psnr: float
    bicubic_ssim: float


check_mirror(SRLosses._fields, gm_sr_losses)
check_mirror(SRScores._fields, gm_sr_scores)


def _dataset(ds: Any) -> Dataset:
    """ds, which must be a Dataset (TypeError otherwise)."""
    if not isinstance(ds, Dataset):
        raise TypeError(f"dataset must be a genmodel.Dataset, got {type(ds).__name__}")
    return ds


def _dims(a: npt.NDArray[np.float32], name: str) -> tuple[int, ...]:
    """a's shape, each side a count that fits the library's int32_t."""
    return tuple(_convert.count(side, f"the shape of {name}") for side in a.shape)


class SR(Checkpointed):
    """A super-resolution upscaler: an ESPCN (convolutions, then a pixel
    shuffle) that makes an image scale times larger, trained on pairs of
    patches, with an optional SRGAN discriminator.

    ``SR(scale=2, channels=1, seed=0, **config)``; keyword arguments
    (defaults from gm_sr_config_init):
        scale (2): 2, 3 or 4.
        channels (1): 1 upscales the luminance Y (a colour image's chroma
            by bicubic interpolation), 3 the RGB values.
        body_channels ((64, 32)), body_kernel ((5, 3)): the convolutions
            before the output one, their channels and odd kernel sides
            (give both when changing their number); out_kernel (3).
        activation ('tanh'), leaky_slope (0.2): after the body's
            convolutions.
        patch (17): the low-resolution side of patches().
        pixel_loss ('mse'): 'mse' or 'l1'.
        adv_weight (0): > 0 trains a discriminator beside the upscaler
            (then train_step takes patches of patch x patch only);
            adv_loss ('ns'), disc_channels ((32, 64, 128)), disc_norm
            ('spectral' or 'none').
        optimizer, lr (1e-3), betas, eps, weight_decay: the upscaler's Adam;
            the same with disc_: the discriminator's (lr 1e-4).
        seed (0): the weights and every random draw.
    """

    _kind = "sr"
    _spec = ConfigSpec(gm_sr_config, lib.gm_sr_config_init_size, library_fields(MODEL_KINDS["sr"]))

    def __init__(self, scale: int = 2, channels: int = 1, seed: int = 0, **config: Any) -> None:
        super().__init__(scale=scale, channels=channels, seed=seed, **config)

    @property
    def scale(self) -> int:
        """The upscaling factor: 2, 3 or 4."""
        return int(self._cfg.scale)

    @property
    def channels(self) -> int:
        """The model's channels: 1 (the luminance Y) or 3 (RGB)."""
        return int(self._cfg.channels)

    def _shape(self) -> str:
        return f"x{self.scale} {'Y' if self.channels == 1 else 'RGB'}"

    def set_lr(self, lr: float, disc_lr: float) -> None:
        """Change the upscaler's and the discriminator's learning rates for
        later steps (each > 0, also without a discriminator)."""
        lr, disc_lr = _convert.float32(lr, "lr"), _convert.float32(disc_lr, "disc_lr")
        with self._use() as h:
            lib.gm_sr_set_lr(h, lr, disc_lr)

    def patches(self, dataset: Dataset, n: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """n training pairs from a dataset of images, each a random crop of
        a random image: (lo, hi), float32 (n, patch, patch, channels) and
        its high-resolution side (n, scale patch, scale patch, channels),
        lo hi's bicubic downscale. Draws from the model's generator."""
        dataset, n = _dataset(dataset), _convert.count(n)
        p, s, c = int(self._cfg.patch), self.scale, self.channels
        lo = np.empty((n, p, p, c), dtype=np.float32)
        hi = np.empty((n, s * p, s * p, c), dtype=np.float32)
        with self._use() as h, dataset._use() as d:
            lib.gm_sr_patches(h, d, n, lo, hi)
        return lo, hi

    def train_step(self, lo: npt.ArrayLike, hi: npt.ArrayLike) -> SRLosses:
        """One optimizer step on n pairs: lo (n, h, w, channels) and hi (n,
        scale h, scale w, channels), values in [0, 1]. Returns the step's
        SRLosses. A non-finite loss raises NumericError and changes
        nothing."""
        lo, hi = _convert.array(lo, "lo"), _convert.array(hi, "hi")
        s, c = self.scale, self.channels
        if lo.ndim != 4 or lo.shape[3] != c:
            raise ValueError(f"lo must have shape (n, h, w, {c}), got {lo.shape}")
        n, height, width, _ = _dims(lo, "lo")
        if hi.shape != (n, s * height, s * width, c):
            raise ValueError(f"hi must have shape {(n, s * height, s * width, c)} for lo of {lo.shape}, "
                             f"got {hi.shape}")
        losses = gm_sr_losses()
        with self._use() as h:
            lib.gm_sr_train_step(h, lo, hi, n, height, width, byref(losses))
        return SRLosses(*(getattr(losses, name) for name in SRLosses._fields))

    def upscale(self, image: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """The image scale times larger, float32 in [0, 1]: (h, w) gives
        (scale h, scale w), (h, w, c) gives (scale h, scale w, c), c 1 or 3
        (a model of RGB takes RGB only). Any size: it runs in tiles."""
        x = _convert.array(image, "image")
        if x.ndim not in (2, 3):
            raise ValueError(f"image must have shape (h, w) or (h, w, c), got {x.shape}")
        height, width, c = _dims(x, "image") + ((1,) if x.ndim == 2 else ())
        s = self.scale
        y = np.empty((s * height, s * width) + x.shape[2:], dtype=np.float32)
        with self._use() as h:
            lib.gm_sr_upscale(h, x, height, width, c, y)
        return y

    def evaluate(self, dataset: Dataset) -> SRScores:
        """The model's and bicubic interpolation's mean PSNR and SSIM on a
        dataset's images, as the field measures them: each image cropped
        to a multiple of scale, downscaled by bicubic, upscaled, and
        compared with the original on the luminance Y (a grey image's as
        R = G = B) with scale pixels of border cropped, PSNR (peak 1) and
        SSIM (Gaussian 11 x 11, sigma 1.5) as scikit-image computes them.
        Every image must keep at least 11 pixels a side so cropped."""
        dataset = _dataset(dataset)
        scores = gm_sr_scores()
        with self._use() as h, dataset._use() as d:
            lib.gm_sr_evaluate(h, d, byref(scores))
        return SRScores(*(getattr(scores, name) for name in SRScores._fields))

    def fit(self, dataset: Dataset, steps: int, batch: int = 64,
            callback: Optional[Callable[[int, SRLosses], Optional[bool]]] = None) -> list[SRLosses]:
        """Train for `steps` steps, each on `batch` new pairs from
        patches(dataset, batch). Returns each step's losses.
        callback(step, losses), with step counting from 1, is called after
        each step; returning False stops training."""
        dataset = _dataset(dataset)
        steps, batch = _convert.count(steps, "steps"), _convert.count(batch, "batch")
        if batch < 1:
            raise ValueError("batch must be >= 1")
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be a callable or None, not {type(callback).__name__}")
        history: list[SRLosses] = []
        for step in range(1, steps + 1):
            history.append(self.train_step(*self.patches(dataset, batch)))
            if callback is not None and callback(step, history[-1]) is False:
                break
        return history
