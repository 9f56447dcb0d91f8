"""``Dataset``: what every loader returns."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..exceptions import DataError

__all__ = ["Dataset"]


@dataclass(repr=False, eq=False)
class Dataset:
    """Samples as rows of float32 features, with optional labels and test split.

    Images are flattened to ``(n_samples, height * width)`` with pixel values in [0, 1];
    :meth:`images` gives them back in their shape.
    """

    name: str
    X: np.ndarray  # (n_samples, n_features) float32
    y: Optional[np.ndarray] = None  # (n_samples,) int labels
    X_test: Optional[np.ndarray] = None  # (n_test, n_features) float32
    y_test: Optional[np.ndarray] = None
    image_shape: Optional[tuple] = None  # (height, width) for images, None for tables
    feature_names: Optional[list] = None
    target_names: Optional[list] = None

    def images(self, X=None) -> np.ndarray:
        """``X`` (default ``self.X``) reshaped to ``(n_samples, *image_shape)``.

        Examples
        --------
        >>> from aekit.datasets import load_digits
        >>> load_digits().images().shape
        (1797, 8, 8)
        """
        if self.image_shape is None:
            raise DataError(f"dataset {self.name!r} is a table, not images (its image_shape is None); "
                            f"images() works on image sets such as digits, mnist and fashion-mnist")
        X = self.X if X is None else np.asarray(X)
        size = int(np.prod(self.image_shape))
        if X.ndim != 2 or X.shape[1] != size:
            raise DataError(f"X has shape {X.shape}; expected (n_samples, {size}) to reshape into images "
                            f"of shape {tuple(self.image_shape)}")
        return X.reshape((X.shape[0], *self.image_shape))

    def __repr__(self) -> str:
        parts = [f"name={self.name!r}"]
        for field in ("X", "y", "X_test", "y_test"):
            value = getattr(self, field)
            if value is not None:
                parts.append(f"{field}={value.dtype}{list(value.shape)}")
        if self.image_shape is not None:
            parts.append(f"image_shape={tuple(self.image_shape)}")
        return f"Dataset({', '.join(parts)})"
