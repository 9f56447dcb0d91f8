"""Synthetic data of the tutorials."""
from __future__ import annotations

import numpy as np

from ..exceptions import DataError

__all__ = ["make_correlated_sequences"]


def make_correlated_sequences(n: int = 100, noise: float = 1.5, random_state=None) -> np.ndarray:
    """Five noisy linear sequences, the Analytics Vidhya autoencoder tutorial's toy data.

    Columns 1, 3 and 5 rise from 0 to 100, columns 2 and 4 fall from 100 to 0, each with its own
    uniform noise in [-noise, noise].

    Parameters
    ----------
    n : int, default 100
        Number of samples (rows).
    noise : float, default 1.5
        Half-width of the uniform noise.
    random_state : int, numpy.random.Generator or None
        Seed or generator for the noise.

    Returns
    -------
    ndarray of shape (n, 5), float64

    Examples
    --------
    >>> X = make_correlated_sequences(n=50, random_state=0)
    >>> X.shape, bool(np.corrcoef(X.T)[0, 1] < -0.99)
    ((50, 5), True)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise DataError(f"n={n!r}; expected a positive integer number of samples")
    if not np.isfinite(noise) or noise < 0:
        raise DataError(f"noise={noise!r}; expected a finite number >= 0")
    rng = np.random.default_rng(random_state)
    up, down = np.linspace(0, 100, n), np.linspace(100, 0, n)
    X = np.column_stack([up, down, up, down, up])  # (n, 5)
    return X + rng.uniform(-noise, noise, size=X.shape)


# -------------------------------------------------------------------------------------------- by name
