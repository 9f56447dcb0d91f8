"""How unusual a sample's code and reconstruction residual are, relative to the training data.

An autoencoder maps ``x`` to a code ``z`` and leaves a residual ``r = x - x_hat`` (in the scaled space it
was trained in). Plain reconstruction error, ``mean(r**2)``, misses two kinds of outlier:

- samples that the decoder reconstructs well but whose code is far from the training codes (the
  autoencoder generalises to them): a Mahalanobis distance of ``z`` catches these;
- residuals that are small in absolute terms but large in a direction where normal residuals are tiny
  (correlated features that normally cancel): a Mahalanobis distance of ``r`` catches these.

For a linear autoencoder the two are the Mahalanobis distances of ``x`` within PCA's subspace and in its
complement (the major- and minor-component scores of Shyu et al.'s 2003 PCA detector). Both covariances are
Ledoit-Wolf shrinkage estimates, so they stay well conditioned with few samples and many features.
Each term is divided by its median on the training data, so neither dominates by its scale.
"""
from __future__ import annotations

import numpy as np

SCORES = ("joint", "residual", "reconstruction")


class ErrorModel:
    """Fitted on the codes and residuals of the training data; scores new ones (higher = more anomalous).

    ``score``: 'joint' (residual and code Mahalanobis terms), 'residual' (residual term only) or
    'reconstruction' (mean squared residual, the classic autoencoder score).
    """

    def __init__(self, score: str = "joint"):
        if score not in SCORES:
            raise ValueError(f"score must be one of {', '.join(repr(s) for s in SCORES)}, got {score!r}")
        self.score_kind = score
        self.stats: dict = {}

    # -- fitting ---------------------------------------------------------------------------------
    def fit(self, codes: np.ndarray, residuals: np.ndarray) -> "ErrorModel":
        """``codes`` (n, latent_dim) and ``residuals`` (n, n_features) of the training data."""
        sq = residuals.astype(np.float64) ** 2
        # Each feature's typical squared error: explain() reports errors relative to it.
        self.stats["feature_scale"] = np.maximum(sq.mean(axis=0), 1e-12)
        if self.score_kind != "reconstruction":
            self._fit_gaussian("residual", residuals)
        if self.score_kind == "joint":
            self._fit_gaussian("code", codes)
        terms = self._terms(codes, residuals)
        for name, values in terms.items():
            self.stats[f"{name}.median"] = np.asarray([max(float(np.median(values)), 1e-12)])  # (1,)
        return self

    def _fit_gaussian(self, name: str, values: np.ndarray) -> None:
        from sklearn.covariance import LedoitWolf

        lw = LedoitWolf().fit(values.astype(np.float64))
        self.stats[f"{name}.location"] = lw.location_
        self.stats[f"{name}.precision"] = lw.precision_

    # -- scoring ---------------------------------------------------------------------------------
    def _mahalanobis(self, name: str, values: np.ndarray) -> np.ndarray:
        centred = values.astype(np.float64) - self.stats[f"{name}.location"]  # (n, dim)
        return np.einsum("ij,jk,ik->i", centred, self.stats[f"{name}.precision"], centred)

    def _terms(self, codes: np.ndarray, residuals: np.ndarray) -> dict:
        if self.score_kind == "reconstruction":
            return {"reconstruction": (residuals.astype(np.float64) ** 2).mean(axis=1)}
        terms = {"residual": self._mahalanobis("residual", residuals)}
        if self.score_kind == "joint":
            terms["code"] = self._mahalanobis("code", codes)
        return terms

    def score(self, codes: np.ndarray, residuals: np.ndarray) -> np.ndarray:
        """Anomaly score per sample, ``(n,)``: each term over its training median, summed."""
        terms = self._terms(codes, residuals)
        return sum(values / self.stats[f"{name}.median"][0] for name, values in terms.items())

    def feature_shares(self, residuals: np.ndarray) -> np.ndarray:
        """``(n, n_features)``: each feature's squared error relative to its training typical, as shares summing to 1."""
        relative = residuals.astype(np.float64) ** 2 / self.stats["feature_scale"]
        total = relative.sum(axis=1, keepdims=True)
        return np.divide(relative, total, out=np.full_like(relative, 1.0 / relative.shape[1]), where=total > 0)

    # -- persistence -----------------------------------------------------------------------------
    def state(self) -> dict:
        return {k: np.asarray(v) for k, v in self.stats.items()}

    @classmethod
    def from_state(cls, score: str, tensors: dict) -> "ErrorModel":
        model = cls(score)
        model.stats = {k: np.asarray(v, dtype=np.float64) for k, v in tensors.items()}
        return model
