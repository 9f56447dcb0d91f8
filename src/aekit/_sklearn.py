"""What scikit-learn's model selection and composition tools ask of a transformer, for ``AutoEncoder``.

- ``score(X)``: the mean of ``score_samples`` (minus the mean reconstruction error; the mean negative
  ELBO for variational kinds), higher is better, so ``GridSearchCV`` and ``cross_val_score`` work without
  ``scoring=``. Only models of one kind and scaling compare on it: a VAE's per-sample sums and a dense
  model's per-element means are different units.
- ``get_feature_names_out()``: ``autoencoder0, autoencoder1, ...``, as PCA names its components
  (``pca0, ...``), which makes ``set_output(transform="pandas")`` work, in a ``ColumnTransformer`` too.
  scikit-learn's ``TransformerMixin`` then wraps ``transform`` and ``fit_transform``.
"""
from __future__ import annotations

import numpy as np


class SklearnMixin:
    """``score`` and ``get_feature_names_out`` on top of ``score_samples`` and the fitted model."""

    def score(self, X, y=None, sample_weight=None) -> float:
        """Mean of ``score_samples(X)``: higher means ``X`` is reconstructed better. ``y`` is ignored.

        With ``sample_weight``, the weighted mean.
        """
        return float(np.average(self.score_samples(X), weights=sample_weight))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the code's columns: ``['autoencoder0', 'autoencoder1', ...]`` (lower-cased class name).

        ``input_features`` is checked against the names seen in ``fit`` (as scikit-learn's PCA does) and
        otherwise unused.
        """
        from sklearn.utils.validation import _check_feature_names_in

        self._check_fitted()
        _check_feature_names_in(self, input_features, generate_names=False)
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}{i}" for i in range(self.model_.config.latent_dim)], dtype=object)
