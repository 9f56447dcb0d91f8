"""Dimensionality reduction: how a fitted autoencoder's codes compare with PCA at the same dimension.

Three measures, each computed the same way for both methods:

- ``reconstruction_mse``: mean squared error of the reconstructions, in the units of ``X``;
- ``trustworthiness``: :func:`sklearn.manifold.trustworthiness`, how well the code space keeps each
  sample's nearest neighbours (1 = all neighbours in code space are neighbours in the input);
- ``knn_accuracy``: accuracy of a k-nearest-neighbour classifier of the labels ``y`` in code space,
  by stratified k-fold cross-validation (None without labels).
"""
from __future__ import annotations

import logging
from typing import Optional

import numpy as np

from ..data.validation import check_array

logger = logging.getLogger(__name__)

__all__ = ["compare_with_pca", "format_table"]

COLUMNS = ("method", "dim", "reconstruction_mse", "trustworthiness", "knn_accuracy")


def compare_with_pca(estimator, X, y=None, n_neighbors: int = 5, X_fit=None, max_samples: Optional[int] = 2000,
                     cv: int = 5, random_state: int = 0) -> list[dict]:
    """Compare a fitted autoencoder's codes with PCA's at the same dimension.

    Parameters
    ----------
    estimator : fitted AutoEncoder
        Anything with ``transform`` (codes) and ``predict`` (reconstructions in the units of ``X``).
    X : array-like of shape (n_samples, ...)
        The data to evaluate, in the shape the estimator takes (images stay images).
    y : array-like of shape (n_samples,), optional
        Labels for the k-NN accuracy; without them ``knn_accuracy`` is None.
    n_neighbors : int, default=5
        Neighbours for trustworthiness and for the k-NN classifier.
    X_fit : array-like, optional
        Data to fit PCA on, normally the autoencoder's training data. Default: ``X`` itself, which
        favours PCA slightly when ``X`` is held-out data.
    max_samples : int or None, default=2000
        Trustworthiness and k-NN use a random subset of this size (trustworthiness needs
        ``n_samples**2`` memory); the reconstruction error always uses all of ``X``.
    cv : int, default=5
        Folds of the k-NN cross-validation.
    random_state : int, default=0
        Seeds the subset and PCA's solver.

    Returns
    -------
    list of dict
        One row per method, ``'autoencoder'`` then ``'pca'``, with the keys ``method``, ``dim``,
        ``reconstruction_mse``, ``trustworthiness`` and ``knn_accuracy`` (floats; None where not defined).

    Examples
    --------
    >>> from aekit import AutoEncoder
    >>> from aekit.datasets import load_digits
    >>> from aekit.applications import compare_with_pca
    >>> ds = load_digits()
    >>> est = AutoEncoder(latent_dim=2, hidden=(32,), epochs=2, random_state=0).fit(ds.X)
    >>> rows = compare_with_pca(est, ds.X[:300], ds.y[:300])
    >>> [(r["method"], r["dim"]) for r in rows]
    [('autoencoder', 2), ('pca', 2)]
    """
    from sklearn.decomposition import PCA

    X_arr = check_array(X, sample_ranks=(1, 2, 3), estimator="compare_with_pca")
    flat = X_arr.reshape(len(X_arr), -1)  # (n, n_features)
    labels = _check_labels(y, len(flat))
    if int(n_neighbors) < 1:
        raise ValueError(f"n_neighbors must be a positive integer, got {n_neighbors!r}")
    codes = np.asarray(estimator.transform(X_arr), dtype=np.float64)  # (n, latent_dim)
    dim = codes.shape[1]
    recon = np.asarray(estimator.predict(X_arr)).reshape(flat.shape)
    fit_flat = flat if X_fit is None else check_array(X_fit, name="X_fit", sample_ranks=(1, 2, 3)).reshape(
        -1, flat.shape[1])
    if dim > min(fit_flat.shape):
        raise ValueError(f"the codes have {dim} dimensions, but PCA on {fit_flat.shape[0]} samples of "
                         f"{fit_flat.shape[1]} features can give at most {min(fit_flat.shape)}; pass more samples")
    pca = PCA(n_components=dim, random_state=random_state).fit(fit_flat)
    pca_codes = pca.transform(flat)
    pca_recon = pca.inverse_transform(pca_codes)

    subset = _subset(len(flat), max_samples, random_state)
    rows = []
    for method, z, r in (("autoencoder", codes, recon), ("pca", pca_codes, pca_recon)):
        rows.append({
            "method": method,
            "dim": int(dim),
            "reconstruction_mse": float(np.mean((r.astype(np.float64) - flat) ** 2)),
            "trustworthiness": _trustworthiness(flat[subset], z[subset], n_neighbors),
            "knn_accuracy": None if labels is None else _knn_accuracy(z[subset], labels[subset], n_neighbors, cv,
                                                                      random_state),
        })
    return rows


def _check_labels(y, n: int) -> Optional[np.ndarray]:
    if y is None:
        return None
    labels = np.asarray(y)
    if labels.ndim != 1 or len(labels) != n:
        raise ValueError(f"y has shape {labels.shape}, but X has {n} samples; expected labels of shape ({n},)")
    return labels


def _subset(n: int, max_samples: Optional[int], random_state: int) -> np.ndarray:
    if max_samples is None or n <= int(max_samples):
        return np.arange(n)
    return np.sort(np.random.default_rng(random_state).choice(n, int(max_samples), replace=False))


def _trustworthiness(X: np.ndarray, Z: np.ndarray, n_neighbors: int) -> Optional[float]:
    from sklearn.manifold import trustworthiness

    # sklearn requires n_neighbors < n_samples / 2
    if n_neighbors >= len(X) / 2:
        logger.warning("trustworthiness needs more than %d samples for n_neighbors=%d", 2 * n_neighbors, n_neighbors)
        return None
    return float(trustworthiness(X, Z, n_neighbors=n_neighbors))


def _knn_accuracy(Z: np.ndarray, y: np.ndarray, n_neighbors: int, cv: int, random_state: int) -> Optional[float]:
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    _, counts = np.unique(y, return_counts=True)
    folds = min(int(cv), int(counts.min()))
    if folds < 2:
        logger.warning("k-NN accuracy needs at least 2 samples of each label; got a label with %d", counts.min())
        return None
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    scores = cross_val_score(KNeighborsClassifier(n_neighbors=n_neighbors), Z, y, cv=splitter)
    return float(scores.mean())


def format_table(rows: list[dict]) -> str:
    """The rows of :func:`compare_with_pca` as a plain-text table (None shown as '-')."""
    def cell(value):
        if value is None:
            return "-"
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    body = [[cell(row.get(c)) for c in COLUMNS] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in body)) for i, c in enumerate(COLUMNS)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths))]
    lines += ["  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths))) for r in body]
    return "\n".join(lines)
