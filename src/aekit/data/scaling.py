"""Feature scaling that is part of the model: fitted in ``fit``, saved with the weights."""
from __future__ import annotations

from typing import Optional

import numpy as np

SCALINGS = ("auto", "minmax", "standard", None)


class Scaler:
    """``x_scaled = (x - offset) * factor``, per feature (last axes of a sample), fitted on training data.

    kind 'minmax' maps each feature's training range onto [0, 1] (constant features to 0); 'standard' to
    zero mean and unit variance (constant features to 0); None is the identity.
    """

    def __init__(self, kind: Optional[str], offset: Optional[np.ndarray] = None,
                 factor: Optional[np.ndarray] = None):
        self.kind = kind
        self.offset = offset
        self.factor = factor

    @classmethod
    def fit(cls, kind: Optional[str], X: np.ndarray) -> "Scaler":
        if kind is None:
            return cls(None)
        if kind == "minmax":
            lo, hi = X.min(axis=0), X.max(axis=0)
            span = hi.astype(np.float64) - lo  # float64: the range of data near +-3e38 overflows float32
            return cls(kind, lo, np.where(span > 0, 1.0 / np.where(span > 0, span, 1), 0.0).astype(np.float32))
        if kind == "standard":
            mean = X.mean(axis=0, dtype=np.float64)
            std = X.std(axis=0, dtype=np.float64)
            return cls(kind, mean.astype(np.float32),
                       np.where(std > 0, 1.0 / np.where(std > 0, std, 1), 0.0).astype(np.float32))
        raise ValueError(f"scaling must be one of {SCALINGS}, got {kind!r}")

    @classmethod
    def from_stats(cls, kind: Optional[str], stats: "RunningStats") -> "Scaler":
        """The scaler ``fit`` would give, from one streaming pass's statistics (equal on minmax; standard
        agrees with the in-memory mean and deviation to float64 rounding, then cast to float32)."""
        if kind is None:
            return cls(None)
        if kind == "minmax":
            span = stats.max - stats.min
            factor = np.where(span > 0, 1.0 / np.where(span > 0, span, 1), 0.0).astype(np.float32)
            return cls(kind, stats.min.copy(), factor)
        if kind == "standard":
            std = np.sqrt(stats.var)
            return cls(kind, stats.mean.astype(np.float32),
                       np.where(std > 0, 1.0 / np.where(std > 0, std, 1), 0.0).astype(np.float32))
        raise ValueError(f"scaling must be one of {SCALINGS}, got {kind!r}")

    def transform(self, X: np.ndarray) -> np.ndarray:
        if self.kind is None:
            return X
        return _float32(lambda dtype: (X.astype(dtype, copy=False) - self.offset) * self.factor)

    def transform_inplace(self, X: np.ndarray) -> np.ndarray:
        """``transform`` written into ``X`` itself (a float32 chunk the caller owns): the same numbers, no
        temporaries; streams scale each chunk they read this way."""
        if self.kind is not None:
            np.subtract(X, self.offset, out=X)
            np.multiply(X, self.factor, out=X)
        return X

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        if self.kind is None:
            return X
        # Constant features (factor 0) come back as their training value.
        safe = np.where(self.factor != 0, self.factor, 1.0)
        return _float32(lambda dtype: np.where(self.factor != 0, X.astype(dtype, copy=False) / safe, 0.0)
                        .astype(dtype, copy=False) + self.offset)

    # -- persistence: arrays go to the weights file, the kind to the JSON config ---------------------
    def state(self) -> dict:
        if self.kind is None:
            return {}
        return {"scaler.offset": self.offset, "scaler.factor": self.factor}

    @classmethod
    def from_state(cls, kind: Optional[str], tensors: dict) -> "Scaler":
        if kind is None:
            return cls(None)
        return cls(kind, np.asarray(tensors["scaler.offset"]), np.asarray(tensors["scaler.factor"]))


def _float32(compute) -> np.ndarray:
    """``compute(np.float32)`` as float32; data near the float32 limit (+-3e38) overflow in between, so then
    ``compute(np.float64)``, whose result is cast back (values beyond float32 become +-inf, without a warning)."""
    try:
        with np.errstate(over="raise", invalid="raise"):
            return np.asarray(compute(np.float32)).astype(np.float32, copy=False)
    except FloatingPointError:
        with np.errstate(over="ignore", invalid="ignore"):
            return np.asarray(compute(np.float64)).astype(np.float32)


def resolve_scaling(scaling, X: np.ndarray) -> Optional[str]:
    """'auto': no scaling when the data already lie in [0, 1] (images) or are already standardised (a
    ``StandardScaler`` before the autoencoder in a Pipeline), else 'minmax'. ``X`` is the data, or their
    :class:`RunningStats` (a stream)."""
    if scaling not in SCALINGS:
        raise ValueError(f"scaling must be one of 'auto', 'minmax', 'standard' or None, got {scaling!r}")
    if scaling == "auto":
        lo, hi = (X.min.min(), X.max.max()) if isinstance(X, RunningStats) else (X.min(), X.max())
        return None if (lo >= 0.0 and hi <= 1.0) or is_standardised(X) else "minmax"
    return scaling


class RunningStats:
    """Per-feature count, min, max, mean and variance of data seen chunk by chunk, in one pass.

    Chunks are merged with Chan, Golub and LeVeque's pairwise update (as scikit-learn's
    ``_incremental_mean_and_var``): ``M2 = M2_a + M2_b + delta**2 * n_a * n_b / n``, in float64.
    """

    def __init__(self):
        self.n, self.min, self.max, self.mean, self._m2 = 0, None, None, None, None

    def update(self, chunk: np.ndarray) -> "RunningStats":
        if len(chunk) == 0:
            return self
        lo, hi = chunk.min(axis=0), chunk.max(axis=0)
        mean = chunk.mean(axis=0, dtype=np.float64)
        m2 = ((chunk.astype(np.float64) - mean) ** 2).sum(axis=0)
        n_b = len(chunk)
        if self.n == 0:
            self.n, self.min, self.max, self.mean, self._m2 = n_b, lo, hi, mean, m2
            return self
        n = self.n + n_b
        delta = mean - self.mean
        self.mean = self.mean + delta * (n_b / n)
        self._m2 = self._m2 + m2 + delta ** 2 * (self.n * n_b / n)
        self.min, self.max, self.n = np.minimum(self.min, lo), np.maximum(self.max, hi), n
        return self

    @property
    def var(self) -> np.ndarray:
        """The population variance (``numpy.std``'s default ``ddof=0``)."""
        return self._m2 / self.n


def is_standardised(X: np.ndarray, tol: float = 1e-3) -> bool:
    """Whether every feature has mean 0 and standard deviation 1 (or 0: a constant feature), to ``tol``:
    what ``StandardScaler`` leaves. Min-max scaling such data again would squeeze it into [0, 1] and
    switch the output to a sigmoid with BCE, a loss for probabilities, not for z-scores."""
    if isinstance(X, RunningStats):
        if X.n < 2:
            return False
        mean, std = X.mean, np.sqrt(X.var)
    else:
        flat = X.reshape(len(X), -1)
        if len(flat) < 2:
            return False
        mean = flat.mean(axis=0, dtype=np.float64)
        std = flat.std(axis=0, dtype=np.float64)
    return bool(np.all(np.abs(mean) <= tol) and np.all((np.abs(std - 1.0) <= tol) | (std <= tol)))
