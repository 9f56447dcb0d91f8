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

    def transform(self, X: np.ndarray) -> np.ndarray:
        if self.kind is None:
            return X
        return _float32(lambda dtype: (X.astype(dtype, copy=False) - self.offset) * self.factor)

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
    ``StandardScaler`` before the autoencoder in a Pipeline), else 'minmax'."""
    if scaling not in SCALINGS:
        raise ValueError(f"scaling must be one of 'auto', 'minmax', 'standard' or None, got {scaling!r}")
    if scaling == "auto":
        return None if (X.min() >= 0.0 and X.max() <= 1.0) or is_standardised(X) else "minmax"
    return scaling


def is_standardised(X: np.ndarray, tol: float = 1e-3) -> bool:
    """Whether every feature has mean 0 and standard deviation 1 (or 0: a constant feature), to ``tol``:
    what ``StandardScaler`` leaves. Min-max scaling such data again would squeeze it into [0, 1] and
    switch the output to a sigmoid with BCE, a loss for probabilities, not for z-scores."""
    flat = X.reshape(len(X), -1)
    if len(flat) < 2:
        return False
    mean = flat.mean(axis=0, dtype=np.float64)
    std = flat.std(axis=0, dtype=np.float64)
    return bool(np.all(np.abs(mean) <= tol) and np.all((np.abs(std - 1.0) <= tol) | (std <= tol)))
