"""Empirical tail probabilities per column, combined over the columns (Fisher's method, as ECOD does).

For each column ``j`` and value ``v``: the left tail ``P(train_j <= v)`` and the right tail
``P(train_j >= v)``; ``neg_log_tails`` gives ``-log`` of both. Inside the training range they are counts
(ECOD, Li et al. 2022). Beyond it, where a count can only say "at most 1 / (n + 1)", the tail goes on
falling exponentially, ``1 / (n + 1) * exp(-(v - max) / beta)``, with ``beta`` the mean excess of the
training values over their 90 % quantile (a peaks-over-threshold fit): a value twice as far out then scores
higher, where ECOD scores it the same.

``score`` adds, over the columns, ``-log`` of the two-sided tail ``min(1, 2 * min(left, right))``: the
statistic of Fisher's method for combining one p-value per column. One extreme column counts fully
instead of being averaged away, and no column's scale matters (the score is unchanged by any increasing
affine map of a column).

The training distribution of each column is kept as ``GRID`` quantiles (every value when there are
fewer), so the model's size does not grow with the training set.
"""
from __future__ import annotations

import numpy as np

#: quantiles kept per column
GRID = 1024
#: the share of each side that the exponential tail's scale is fitted on
TAIL_SHARE = 0.1


class TailModel:
    """Fitted on ``(n, F)`` training values; ``score`` gives ``(m,)`` (higher = more extreme)."""

    def __init__(self):
        self.stats: dict = {}

    def fit(self, values: np.ndarray) -> "TailModel":
        v = np.asarray(values, dtype=np.float64)
        n = len(v)
        q = np.quantile(v, np.linspace(0.0, 1.0, min(n, GRID)), axis=0)  # (G, F), ascending
        lo, hi = np.quantile(v, [TAIL_SHARE, 1.0 - TAIL_SHARE], axis=0)
        floor = 1e-3 * v.std(axis=0) + 1e-12  # a column with no spread in its tail: a steep, finite tail
        self.stats["quantiles"] = q
        self.stats["n"] = np.asarray([float(n)])
        self.stats["beta_right"] = np.maximum(_mean_excess(v - hi), floor)
        self.stats["beta_left"] = np.maximum(_mean_excess(lo - v), floor)
        return self

    def neg_log_tails(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``-log`` left and right tail probabilities, each ``(m, F)``."""
        q = self.stats["quantiles"]
        g, n = len(q), float(self.stats["n"][0])
        v = np.asarray(values, dtype=np.float64)
        left = np.empty_like(v)
        right = np.empty_like(v)
        for j in range(v.shape[1]):  # the share of kept values <= v, and >= v (ties count on both sides)
            left[:, j] = np.searchsorted(q[:, j], v[:, j], side="right")
            right[:, j] = g - np.searchsorted(q[:, j], v[:, j], side="left")
        cap = np.log(n + 1.0)
        beyond_left = np.maximum(q[0] - v, 0.0) / self.stats["beta_left"]
        beyond_right = np.maximum(v - q[-1], 0.0) / self.stats["beta_right"]
        return (np.minimum(-np.log(np.maximum(left, 1e-300) / g), cap) + beyond_left,
                np.minimum(-np.log(np.maximum(right, 1e-300) / g), cap) + beyond_right)

    def column_scores(self, values: np.ndarray) -> np.ndarray:
        """``-log`` of each column's two-sided tail, ``(m, F)``, at least 0."""
        left, right = self.neg_log_tails(values)
        return np.maximum(np.maximum(left, right) - np.log(2.0), 0.0)

    def score(self, values: np.ndarray) -> np.ndarray:
        return self.column_scores(values).sum(axis=1)

    def state(self) -> dict:
        return dict(self.stats)

    @classmethod
    def from_state(cls, tensors: dict) -> "TailModel":
        model = cls()
        model.stats = {k: np.asarray(v, dtype=np.float64) for k, v in tensors.items()}
        return model


def _mean_excess(excess: np.ndarray) -> np.ndarray:
    """Per column, the mean of the positive entries of ``excess`` ``(n, F)`` (0 where there are none)."""
    positive = excess > 0
    return np.where(positive, excess, 0.0).sum(0) / np.maximum(positive.sum(0), 1)
