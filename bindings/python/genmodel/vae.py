"""The variational autoencoder (vae.h).

Arrays: x (n, input_dim), z, mu and logvar (n, latent_dim), labels (n,)
int32 in [0, n_classes) for a conditional VAE and None otherwise. Inputs
of another dtype or layout are converted; float32 C-contiguous ones are
used in place.
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Optional

import numpy as np
import numpy.typing as npt

from . import _convert
from ._config import ConfigSpec, library_fields
from ._lib import MODEL_KINDS, check_mirror, gm_vae_config, gm_vae_losses, lib
from ._model import Model


class VAELosses(NamedTuple):
    """Loss terms of a batch in nats per sample: loss = recon + beta * kl is
    the objective, neg_elbo = recon + kl the negative evidence lower bound."""

    loss: float
    neg_elbo: float
    recon: float
    kl: float


check_mirror(VAELosses._fields, gm_vae_losses)


class VAE(Model[VAELosses]):
    """A variational autoencoder: encoder x -> (mu, logvar), decoder z -> x,
    MLPs or (with conv_channels) convolutional.

    Keyword arguments (defaults from gm_vae_config_init):
        input_dim (784), latent_dim (20): D and Z.
        enc_hidden ((400,)), dec_hidden ((400,)): hidden widths, at most 4
            layers each; the encoder's input side first, the decoder's
            latent side first.
        activation ('relu'): 'identity', 'relu', 'leaky_relu', 'elu',
            'tanh' or 'sigmoid'; leaky_slope (0.01) for 'leaky_relu'.
        likelihood ('bernoulli'): 'bernoulli' (x in [0, 1]) or 'gaussian'.
        beta (1.0): weight of the KL term.
        n_classes (0): > 0 makes the VAE conditional on a label.
        optimizer ('adam' or 'adamw'), lr (1e-3), betas ((0.9, 0.999)),
            eps (1e-8), weight_decay (0): Adam's settings.
        seed (0): the weights and every random draw.
        image_channels, image_height, image_width (0): the shape of a row
            of x, laid out (height, width, channels); conv_channels (()):
            the encoder's stride-2 convolutions, mirrored by the decoder's
            transposed ones (docs/conv.md).
        normalization ('none'): 'batch' after the hidden layers but the
            outer ones.
        scoring (1): keep what the scores fit (fit_latent, calibrate).
        standardize (0): 1 standardizes each column of x by statistics
            fitted on the training data (fit_standardization; fit() does
            it); for tables, with likelihood 'gaussian'.
    """

    _kind = "vae"
    _spec = ConfigSpec(gm_vae_config, lib.gm_vae_config_init_size, library_fields(MODEL_KINDS["vae"]))
    _losses_struct = gm_vae_losses
    _losses = VAELosses

    @property
    def _x_dim(self) -> int:
        return int(self._cfg.input_dim)

    @property
    def _z_dim(self) -> int:
        return int(self._cfg.latent_dim)

    def _shape(self) -> str:
        return f"{self._x_dim}->{self._z_dim}"

    def set_lr(self, lr: float) -> None:
        """Change the learning rate for later steps (lr > 0)."""
        lr = _convert.float32(lr, "lr")
        with self._use() as h:
            lib.gm_vae_set_lr(h, lr)

    def encode(self, x: npt.ArrayLike,
               labels: Optional[npt.ArrayLike] = None) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """q(z|x): (mu, logvar), each (n, latent_dim)."""
        x, labels = self._batch(x, labels)
        mu, logvar = _convert.floats(len(x), self._z_dim), _convert.floats(len(x), self._z_dim)
        with self._use() as h:
            lib.gm_vae_encode(h, x, labels, len(x), mu, logvar)
        return mu, logvar

    def reparameterize(self, mu: npt.ArrayLike, logvar: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """z = mu + exp(logvar / 2) * eps, eps ~ N(0, I) from the model's
        generator; all (n, latent_dim)."""
        mu = _convert.rows(mu, self._z_dim, "mu")
        logvar = _convert.rows(logvar, self._z_dim, "logvar")
        if logvar.shape != mu.shape:
            raise ValueError(f"logvar must have the shape of mu, {mu.shape}, got {logvar.shape}")
        z = _convert.floats(len(mu), self._z_dim)
        with self._use() as h:
            lib.gm_vae_reparameterize(h, mu, logvar, len(mu), z)
        return z

    def decode(self, z: npt.ArrayLike, labels: Optional[npt.ArrayLike] = None) -> npt.NDArray[np.float32]:
        """The decoder's mean for each z (n, latent_dim): probabilities
        (Bernoulli) or means (Gaussian), (n, input_dim)."""
        z = _convert.rows(z, self._z_dim, "z")
        labels = _convert.labels(labels, len(z))
        x = _convert.floats(len(z), self._x_dim)
        with self._use() as h:
            lib.gm_vae_decode(h, z, labels, len(z), x)
        return x

    def elbo(self, x: npt.ArrayLike, labels: Optional[npt.ArrayLike] = None) -> npt.NDArray[np.float64]:
        """The evidence lower bound of each sample from one draw of z,
        float64 (n,); no update."""
        x, labels = self._batch(x, labels)
        out = _convert.doubles(len(x))
        with self._use() as h:
            lib.gm_vae_elbo(h, x, labels, len(x), out, None)
        return out

    def iwae(self, x: npt.ArrayLike, k: int, labels: Optional[npt.ArrayLike] = None) -> npt.NDArray[np.float64]:
        """The importance-weighted bound with k >= 1 samples, an estimate of
        log p(x) that tightens as k grows: float64 (n,)."""
        x, labels = self._batch(x, labels)
        k = _convert.int32(k, "k")
        out = _convert.doubles(len(x))
        with self._use() as h:
            lib.gm_vae_iwae(h, x, labels, len(x), k, out)
        return out

    def reconstruct(self, x: npt.ArrayLike, labels: Optional[npt.ArrayLike] = None) -> npt.NDArray[np.float32]:
        """Each sample decoded from its posterior mean, (n, input_dim)."""
        x, labels = self._batch(x, labels)
        out = _convert.floats(len(x), self._x_dim)
        with self._use() as h:
            lib.gm_vae_reconstruct(h, x, labels, len(x), out)
        return out

    def interpolate(self, a: npt.ArrayLike, b: npt.ArrayLike, steps: int = 10,
                    labels: Optional[npt.ArrayLike] = None) -> npt.NDArray[np.float32]:
        """Walks from a[i]'s posterior mean to b[i]'s, both ends included:
        (n, steps, input_dim). labels (n) gives each pair's class for a
        conditional VAE."""
        a, labels = self._batch(a, labels)
        b, _ = self._batch(b, None)
        if len(a) != len(b):
            raise ValueError(f"a and b must have as many rows (got {len(a)} and {len(b)})")
        steps = _convert.int32(steps, "steps")
        out = _convert.floats(len(a) * max(steps, 0), self._x_dim)
        with self._use() as h:
            lib.gm_vae_interpolate(h, a, b, labels, len(a), steps, out)
        return out.reshape(len(a), steps, self._x_dim)

    def manifold(self, side: int = 20, label: Optional[int] = None) -> npt.NDArray[np.float32]:
        """A 2-D latent space drawn: (side * side, input_dim), row by row,
        the cell in row r and column c decoded from the prior's quantiles
        (q(c), q(side - 1 - r)), q(k) at (k + 0.5) / side."""
        side = _convert.int32(side, "side")
        label = -1 if label is None else _convert.int32(label, "label")
        out = _convert.floats(max(side, 0) ** 2, self._x_dim)
        with self._use() as h:
            lib.gm_vae_manifold(h, side, label, out)
        return out

    def anomaly_map(self, x: npt.ArrayLike, labels: Optional[npt.ArrayLike] = None) -> npt.NDArray[np.float32]:
        """Where each sample is anomalous, (n, input_dim): each value's term
        of the reconstruction score, -log p(x_j | z = mu(x))."""
        x, labels = self._batch(x, labels)
        out = _convert.floats(len(x), self._x_dim)
        with self._use() as h:
            lib.gm_vae_anomaly_map(h, x, labels, len(x), out)
        return out

    def fit_standardization(self, x: npt.ArrayLike) -> None:
        """Fit the standardization of a model made with standardize=1: each
        column's mean and standard deviation over x (n >= 2 rows), the
        training data, kept with the model and saved with it. fit() does
        this itself for a model that has not trained yet. A constant or
        non-finite column is a ValueError naming it."""
        x, _ = self._batch(x, None)
        with self._use() as h:
            lib.gm_vae_fit_standardization(h, x, len(x))

    def fit(self, x: npt.ArrayLike, epochs: int, batch_size: int = 128, labels: Optional[npt.ArrayLike] = None,
            callback: Optional[Callable[[int, VAELosses], Optional[bool]]] = None) -> list[VAELosses]:
        """As Model.fit; a model made with standardize=1 that has not
        trained yet first fits its standardization on x, and a model that
        keeps scoring (the default) ends by fitting the latent scores on x
        (fit_latent)."""
        rows, labels = self._batch(x, labels)
        if self._cfg.standardize and self.step == 0:
            self.fit_standardization(rows)
        history = super().fit(rows, epochs, batch_size=batch_size, labels=labels, callback=callback)
        if self._cfg.scoring and len(rows) >= 2:
            self.fit_latent(rows, labels)
        return history

    def fit_latent(self, x: npt.ArrayLike, labels: Optional[npt.ArrayLike] = None) -> None:
        """Fit the aggregate posterior the 'latent' score measures against:
        the mean and covariance of mu(x) over x, the training data. Kept
        with the model and saved with it."""
        x, labels = self._batch(x, labels)
        with self._use() as h:
            lib.gm_vae_fit_latent(h, x, labels, len(x))

    #: The kinds of score() and calibrate(), in gm_score_kind's order.
    SCORE_KINDS = ("neg_elbo", "iwae", "reconstruction", "complexity", "latent", "latent_knn")

    def calibrate(self, x: npt.ArrayLike, fpr: float = 0.05, kind: str = "latent_knn", m: int = 10,
                  labels: Optional[npt.ArrayLike] = None) -> None:
        """Calibrate a threshold on held-out normal rows x: the score of
        `kind` (m draws) above which the fraction fpr of them lies. Kept
        with the model (and saved with it) for flag()."""
        if not isinstance(kind, str):
            raise TypeError(f"kind must be a str, got {type(kind).__name__}")
        if kind not in self.SCORE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(self.SCORE_KINDS)} (got {kind!r})")
        x, labels = self._batch(x, labels)
        with self._use() as h:
            lib.gm_vae_calibrate(h, self.SCORE_KINDS.index(kind), x, labels, len(x), _convert.int32(m, "m"),
                                 _convert.float32(fpr, "fpr"))

    def flag(self, x: npt.ArrayLike, labels: Optional[npt.ArrayLike] = None
             ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """Score rows as calibrated: (scores float64, p-values float64,
        flags bool), each (n,); a flag where the score is above the
        calibrated threshold."""
        x, labels = self._batch(x, labels)
        scores, p = _convert.doubles(len(x)), _convert.doubles(len(x))
        flags = np.empty(len(x), dtype=np.int32)
        with self._use() as h:
            lib.gm_vae_flag(h, x, labels, len(x), scores, p, flags)
        return scores, p, flags.astype(bool)

    def score(self, x: npt.ArrayLike, m: int = 10, labels: Optional[npt.ArrayLike] = None,
              kind: str = "latent_knn") -> npt.NDArray[np.float64]:
        """Anomaly score of each sample, float64 (n,); higher is less like
        the training data. kind (gm_score_kind): 'latent_knn' (the
        default) the mean Mahalanobis distance of mu(x) to its 10 nearest
        among the training rows' posterior means; 'latent' the squared
        Mahalanobis distance of mu(x) from the training data's mean (both
        fitted by fit_latent, which fit() calls); 'reconstruction'
        -log p(x | z = mu(x)); 'neg_elbo' the negative ELBO averaged over m
        draws of z; 'iwae' -log p(x) from m importance-weighted draws;
        'complexity' the IWAE score less x's zlib-compressed length in nats
        (Serra et al. 2020). docs/anomaly.md says which to use when."""
        if not isinstance(kind, str):
            raise TypeError(f"kind must be a str, got {type(kind).__name__}")
        if kind not in self.SCORE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(self.SCORE_KINDS)} (got {kind!r})")
        x, labels = self._batch(x, labels)
        m = _convert.int32(m, "m")
        out = _convert.doubles(len(x))
        with self._use() as h:
            lib.gm_vae_score_as(h, self.SCORE_KINDS.index(kind), x, labels, len(x), m, out)
        return out
