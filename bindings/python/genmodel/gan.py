"""The generative adversarial network (gan.h).

Arrays: x (n, data_dim), z (n, noise_dim), labels (n,) int32 in
[0, n_classes) for a conditional GAN and None otherwise. Inputs of another
dtype or layout are converted; float32 C-contiguous ones are used in place.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np
import numpy.typing as npt

from . import _convert
from ._config import ConfigSpec, library_fields
from ._lib import MODEL_KINDS, check_mirror, gm_gan_config, gm_gan_losses, lib
from ._model import Model


class GANLosses(NamedTuple):
    """What a training step saw: the discriminator's loss (penalty included),
    the generator's loss, mean D(x) and D(G(z)) (probabilities for 'ns' and
    'minimax', raw outputs otherwise), and the gradient penalty (WGAN-GP)."""

    d_loss: float
    g_loss: float
    d_real: float
    d_fake: float
    gp: float


check_mirror(GANLosses._fields, gm_gan_losses)


class GAN(Model[GANLosses]):
    """A generative adversarial network: generator z -> x, discriminator
    x -> logit, MLPs or (with conv_channels) a DCGAN. Each training step
    makes n_critic updates of the discriminator, then one of the generator.

    Keyword arguments (defaults from gm_gan_config_init):
        data_dim (784), noise_dim (64): D and Z.
        gen_hidden ((256, 512)), disc_hidden ((512, 256)): hidden widths,
            at most 4 layers each; the noise side and the data side first.
        activation ('leaky_relu'), leaky_slope (0.2): as for VAE.
        gen_output ('sigmoid'): 'sigmoid' for data in [0, 1], 'tanh' for
            data in [-1, 1].
        loss ('hinge'): 'ns' (non-saturating), 'minimax', 'hinge', 'lsgan'
            or 'wgan-gp'; n_critic (1); gp_weight (10) for 'wgan-gp'.
        label_smoothing (0): one-sided, real target 1 - s.
        instance_noise (0), noise_anneal_steps (10000): Gaussian noise on the
            discriminator's inputs, annealed to 0 over that many steps.
        ema_decay (0.999): > 0 keeps a moving average of the generator's
            weights for sampling.
        n_classes (0): > 0 makes the GAN conditional on a label.
        gen_optimizer, gen_lr (2e-4), gen_betas ((0.5, 0.999)), gen_eps,
            gen_weight_decay, and the same with disc_: each network's Adam.
        seed (0): the weights and every random draw.
        image_channels, image_height, image_width (0): the shape of a row
            of x, laid out (height, width, channels); conv_channels (()):
            the discriminator's stride-2 convolutions, mirrored by the
            generator's transposed ones (docs/conv.md).
        gen_norm ('none'), disc_norm ('spectral'): 'none', 'batch', or
            'spectral' for D.
        minibatch_std (0): group size of D's minibatch-stddev feature.
    """

    _kind = "gan"
    _spec = ConfigSpec(gm_gan_config, lib.gm_gan_config_init_size, library_fields(MODEL_KINDS["gan"]))
    _losses_struct = gm_gan_losses
    _losses = GANLosses

    @property
    def _x_dim(self) -> int:
        return int(self._cfg.data_dim)

    @property
    def _z_dim(self) -> int:
        return int(self._cfg.noise_dim)

    def _shape(self) -> str:
        return f"{self._z_dim}->{self._x_dim}"

    def set_lr(self, gen_lr: float, disc_lr: float) -> None:
        """Change both learning rates for later steps (each > 0)."""
        gen_lr, disc_lr = _convert.float32(gen_lr, "gen_lr"), _convert.float32(disc_lr, "disc_lr")
        with self._use() as h:
            lib.gm_gan_set_lr(h, gen_lr, disc_lr)

    def generate(self, z: npt.ArrayLike, labels: Optional[npt.ArrayLike] = None,
                 use_ema: Optional[bool] = None) -> npt.NDArray[np.float32]:
        """G(z) for noise z (n, noise_dim): (n, data_dim). use_ema True
        selects the moving average of the generator's weights, which a GAN
        keeps when ema_decay > 0; False the raw weights; None (the default)
        the average when there is one, as sample() does. True for a GAN
        without an average is a ValueError."""
        z = _convert.rows(z, self._z_dim, "z")
        labels = _convert.labels(labels, len(z))
        has_ema = self._cfg.ema_decay > 0
        use_ema = has_ema if use_ema is None else bool(use_ema)
        if use_ema and not has_ema:
            raise ValueError("generate: use_ema=True, but this GAN keeps no moving average (ema_decay = 0)")
        x = _convert.floats(len(z), self._x_dim)
        with self._use() as h:
            lib.gm_gan_generate(h, z, labels, len(z), use_ema, x)
        return x

    def discriminate(self, x: npt.ArrayLike, labels: Optional[npt.ArrayLike] = None) -> npt.NDArray[np.float32]:
        """D(x): the discriminator's logit (the critic's value for
        'wgan-gp') of each sample, float32 (n,)."""
        x, labels = self._batch(x, labels)
        out = _convert.floats(len(x))
        with self._use() as h:
            lib.gm_gan_discriminate(h, x, labels, len(x), out)
        return out

    def score(self, x: npt.ArrayLike, labels: Optional[npt.ArrayLike] = None) -> npt.NDArray[np.float64]:
        """Anomaly score of each sample, float64 (n,): -D(x), higher for
        rows the discriminator takes for forged, as `genmodel gan score`
        prints it (docs/anomaly.md)."""
        return -self.discriminate(x, labels).astype(np.float64)
