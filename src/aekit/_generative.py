"""Generation from variational kinds: ``sample`` and ``interpolate`` on the estimator."""
from __future__ import annotations

import numpy as np
import torch

from .data.validation import check_random_state_int


class GenerativeMixin:
    """Methods that decode new codes; they need a model with ``variational = True``."""

    def _check_variational(self, method: str):
        self._check_fitted()
        if not getattr(self.model_, "variational", False):
            raise TypeError(f"{method}() needs a variational kind ('vae' or 'conv_vae'), but this "
                            f"{type(self).__name__} is kind={self.model_.kind!r}; fit with kind='vae' instead")

    def sample(self, n, random_state=None) -> np.ndarray:
        """Draw ``n`` new samples: codes from the prior N(0, I), decoded (variational kinds only).

        Returns ``(n, *input_shape)`` in the units of the training data.
        """
        self._check_variational("sample")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive integer number of samples, got {n!r}")
        gen = torch.Generator().manual_seed(check_random_state_int(random_state))
        z = torch.randn((int(n), self.model_.config.latent_dim), generator=gen)
        out = self._map_batches(self.model_.decode, z)
        return self.scaler_.inverse_transform(out)

    def interpolate(self, a, b, steps=10) -> np.ndarray:
        """Decode ``steps`` points on the line between the mean codes of samples ``a`` and ``b``.

        Returns ``(steps, *input_shape)``: the first row decodes ``a``'s code, the last ``b``'s.
        """
        self._check_variational("interpolate")
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 2:
            raise ValueError(f"steps must be an integer >= 2 (both ends included), got {steps!r}")
        shape = tuple(self.input_shape_)
        ends = [np.asarray(v, dtype=np.float32) for v in (a, b)]
        ends = [v.reshape((1,) + shape) if v.shape == shape else v for v in ends]
        za, zb = (self.transform(v) for v in ends)
        if za.shape[0] != 1 or zb.shape[0] != 1:
            raise ValueError(f"a and b must each be one sample of shape {shape}, got {za.shape[0]} and "
                             f"{zb.shape[0]} samples")
        t = np.linspace(0.0, 1.0, int(steps), dtype=np.float32)[:, None]  # (steps, 1)
        return self.inverse_transform((1 - t) * za + t * zb)
