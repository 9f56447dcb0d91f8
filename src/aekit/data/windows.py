"""Windows of a multivariate time series, for the sequence autoencoders (``kind='lstm'`` / ``'conv1d'``).

A series ``(n_steps, n_features)`` becomes overlapping windows ``(n_windows, window, n_features)``;
an error per window and step maps back onto the series' time steps by averaging every window that
covers each step.

Examples
--------
>>> import numpy as np
>>> series = np.arange(20, dtype=float).reshape(10, 2)  # 10 steps, 2 features
>>> W = make_windows(series, window=4, step=2)
>>> W.shape
(4, 4, 2)
>>> timestep_errors(np.ones((4, 4)), n_steps=10, step=2).shape
(10,)
"""
from __future__ import annotations

import numpy as np

from ..exceptions import DataError

__all__ = ["make_windows", "timestep_errors", "window_starts"]


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise DataError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def window_starts(n_steps: int, window: int, step: int = 1) -> np.ndarray:
    """First time step of each window; the last window ends on the series' last step when it can."""
    window, step = _positive_int(window, "window"), _positive_int(step, "step")
    if window > n_steps:
        raise DataError(f"window={window} is longer than the series ({n_steps} steps); "
                        "use a shorter window or a longer series")
    starts = np.arange(0, n_steps - window + 1, step)
    if starts[-1] != n_steps - window:  # so every step is covered by at least one window
        starts = np.append(starts, n_steps - window)
    return starts


def make_windows(series, window: int, step: int = 1) -> np.ndarray:
    """Cut ``series`` ``(n_steps,)`` or ``(n_steps, n_features)`` into ``(n_windows, window, n_features)``.

    Windows start every ``step`` steps; one more is added at the end when needed so that every step is
    in some window. The windows are copies (float32), safe to scale or corrupt.
    """
    arr = np.asarray(series, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise DataError(f"series must be 1-D (n_steps,) or 2-D (n_steps, n_features), got shape {arr.shape}")
    starts = window_starts(len(arr), window, step)
    idx = starts[:, None] + np.arange(int(window))[None, :]  # (n_windows, window)
    return arr[idx]


def timestep_errors(errors, n_steps: int, step: int = 1) -> np.ndarray:
    """Average per-window errors back onto the series: ``(n_windows, window[, n_features])`` -> ``(n_steps[, ...])``.

    ``errors`` are per (window, step) errors of windows made by :func:`make_windows` with the same
    ``step``, e.g. ``est.reconstruction_error(W, per_feature=True).reshape(W.shape).mean(axis=2)``.
    """
    errors = np.asarray(errors, dtype=np.float64)
    if errors.ndim < 2:
        raise DataError(f"errors must be (n_windows, window) or (n_windows, window, n_features), "
                        f"got shape {errors.shape}")
    n_windows, window = errors.shape[:2]
    starts = window_starts(_positive_int(n_steps, "n_steps"), window, step)
    if len(starts) != n_windows:
        raise DataError(f"errors hold {n_windows} windows of {window} steps, but a series of {n_steps} steps cut "
                        f"with step={step} gives {len(starts)}; pass the n_steps and step used by make_windows")
    total = np.zeros((n_steps,) + errors.shape[2:])
    count = np.zeros(n_steps)
    for start, err in zip(starts, errors):
        total[start:start + window] += err
        count[start:start + window] += 1
    return total / count.reshape((-1,) + (1,) * (errors.ndim - 2))
