"""``AnomalyDetector``: an autoencoder as an outlier detector, with thresholds that need no labels.

Conventions (scikit-learn's ``OutlierMixin``): ``predict`` gives -1 for outliers and 1 for inliers;
``score_samples`` and ``decision_function`` are higher for more normal samples, and
``decision_function < 0`` is exactly ``predict == -1``. PyOD uses the opposite: its ``labels_`` are
1 for outliers and 0 for inliers, and its ``decision_function`` is higher for more abnormal samples.
So ``pyod_label = (predict(X) == -1).astype(int)`` and ``pyod_score = -score_samples(X)``.
For PyOD users the detector also has PyOD's names, in PyOD's sign: ``decision_scores_`` (anomaly scores
of the training data, higher = more abnormal), ``threshold_`` on that scale (``= -offset_``), ``labels_``
(1 outlier, 0 inlier) and ``predict_proba`` (columns: inlier, outlier).
"""
from __future__ import annotations

import logging
import math

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, clone

from .. import persistence
from .._params import Integer, check_param, validate_params
from ..data.validation import check_array, check_n_features, check_random_state_int, feature_names_of
from ..estimator import AutoEncoder
from ..exceptions import ModelFileError, NotFittedError
from ..models import model_class
from ._error_model import SCORES, ErrorModel
from ._members import AutoEncoderMembers, EnsembleMembers

#: rows scored at a time: bounds the memory of scoring large data (tails work in float64 on 2 x F columns)
CHUNK_ROWS = 4096
#: the detector file layout this aekit writes and reads (1: before the ensemble, issue 12)
DETECTOR_FORMAT = 2

logger = logging.getLogger(__name__)

__all__ = ["AnomalyDetector", "default_autoencoder"]


def default_autoencoder(n_features: int, n_samples: int, random_state=None, **overrides) -> AutoEncoder:
    """One autoencoder sized for tabular data: what ``aekit fit-detector`` trains when given autoencoder options
    (and :class:`AnomalyDetector`'s default before the ensemble; ``AnomalyDetector(default_autoencoder(...))``).

    Standard scaling; one hidden layer of ``max(2k, min(64, n_features))`` units around a code of
    ``k = max(2, n_features // 4)``; up to 100 epochs with early stopping (patience 10) on a 15 %
    validation split, restoring the best weights; batches of ``n_samples / 16`` clipped to [32, 256].
    These rules were chosen by measurement on the ODDS sets (see docs/anomaly.md); nothing depends on the
    dataset beyond its number of features and samples. ``overrides`` replace any of these parameters.
    """
    k = max(2, n_features // 4)
    params = dict(latent_dim=k, hidden=(max(2 * k, min(64, n_features)),), scaling="standard", epochs=100,
                  batch_size=min(256, max(32, n_samples // 16)), validation_split=0.15, early_stopping=10,
                  random_state=random_state)
    params.update(overrides)
    return AutoEncoder(**params)


@persistence.loadable
class AnomalyDetector(OutlierMixin, BaseEstimator):
    """Outlier detection with any autoencoder: scores, labels, calibrated p-values and explanations.

    ``fit`` holds out a random ``calibration_fraction`` of the (mostly normal) training data, trains the
    autoencoders on the rest, and scores the held-out part. Those calibration scores give conformal p-values
    (for a new normal sample, ``P(pvalue <= a) <= a`` for every ``a``) and, with ``alpha``, the threshold.

    Parameters
    ----------
    autoencoder : AutoEncoder, 'ensemble' or None, default=None
        An unfitted template, cloned and trained in ``fit``. None trains the default: one dense autoencoder
        sized by :func:`default_autoencoder` from the data's shape. 'ensemble' trains a batched ensemble of
        16 small dense autoencoders, each on its own random half of the features, with a truncated loss
        (``aekit.applications._ensemble``); it won the half of the ODDS sets it was designed on and lost the
        other half, so it is not the default (docs/anomaly.md has both tables).
    contamination : float in (0, 0.5], default=0.1
        Expected fraction of outliers in the training data: ``offset_`` flags this fraction of ``X``
        in ``fit`` (as scikit-learn and PyOD do).
    alpha : float in (0, 1) or None, default=None
        Target false-alarm rate. When set, it replaces ``contamination``: a sample is flagged when its
        conformal p-value is at most ``alpha``, so at most about ``alpha`` of normal data is flagged.
    calibration_fraction : float in [0, 1), default=0.2
        Share of the training data held out (not trained on) for the ``alpha`` threshold and the p-values.
        With 0, ``pvalues`` and ``alpha`` are unavailable.
    anomaly_score : {'auto', 'tails', 'joint', 'residual', 'reconstruction'}, default='auto'
        'auto' is 'joint' for one autoencoder and 'tails' for the ensemble.
        'tails' sums ``-log`` empirical tail probabilities (as ECOD does) over each standardised feature and
        each feature's reconstruction residual; 'joint' adds a Mahalanobis distance of the code to one of the
        residual (see ``aekit.applications._error_model``); 'residual' keeps the residual term only;
        'reconstruction' is the mean squared reconstruction error, as PyOD's AutoEncoder scores.
    random_state : int or None
        Seeds the calibration split and, for the default autoencoder, its training.

    Attributes
    ----------
    members_ : the fitted networks (``_members.EnsembleMembers`` or ``AutoEncoderMembers``)
    autoencoder_ : AutoEncoder, fitted, when ``autoencoder`` was given; else None
    offset_ : float, on the ``score_samples`` scale (scikit-learn's: ``decision_function = score_samples - offset_``);
        samples scoring below it are outliers
    threshold_ : float, PyOD's: ``-offset_``, on the anomaly-score scale; samples scoring above it are outliers
    decision_scores_ : ndarray, PyOD's: anomaly scores (``-score_samples``) of the training data
    labels_ : ndarray of int, PyOD's: 1 for the training samples above ``threshold_``, else 0
    calibration_scores_ : ndarray, sorted anomaly scores (``-score_samples``) of the calibration split
    n_features_in_, feature_names_in_ : as in scikit-learn

    Examples
    --------
    >>> import numpy as np
    >>> from aekit import AnomalyDetector
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 6))
    >>> det = AnomalyDetector(alpha=0.05, random_state=0).fit(X)
    >>> det.predict([[0, 0, 0, 0, 0, 0], [9, -9, 9, -9, 9, -9]]).tolist()
    [1, -1]
    >>> bool(det.pvalues([[9, -9, 9, -9, 9, -9]])[0] < 0.05)
    True
    """

    def __init__(self, autoencoder=None, contamination=0.1, alpha=None, calibration_fraction=0.2,
                 anomaly_score="auto", random_state=None):
        self.autoencoder = autoencoder
        self.contamination = contamination
        self.alpha = alpha
        self.calibration_fraction = calibration_fraction
        self.anomaly_score = anomaly_score
        self.random_state = random_state

    # -- fitting ---------------------------------------------------------------------------------
    def fit(self, X, y=None):
        """Train the autoencoders on part of ``X`` and calibrate on the rest. ``y`` is ignored. Returns self."""
        self._check_params()
        template = self.autoencoder if isinstance(self.autoencoder, AutoEncoder) else AutoEncoder()
        X_arr = check_array(X, sample_ranks=model_class(template.kind).sample_ranks, estimator=type(self).__name__)
        seed = check_random_state_int(self.random_state)
        train, cal = self._split(len(X_arr), seed)
        if self.autoencoder == "ensemble":
            members = EnsembleMembers.fit(X_arr[train], seed)
        else:
            template = (self.autoencoder if self.autoencoder is not None else
                        default_autoencoder(int(np.prod(X_arr.shape[1:])), len(train), random_state=seed))
            members = AutoEncoderMembers(clone(template).fit(X_arr[train]))
        self.members_ = members
        self.error_model_ = ErrorModel(self._score_name())
        self.error_model_.fit(*members.parts(X_arr[train], codes=self.error_model_.uses_codes))
        all_scores = self._scores_of(X_arr)  # (n,) anomaly scores of X
        self.calibration_scores_ = np.sort(all_scores[cal])
        self.n_calibration_ = len(cal)
        self.input_shape_ = tuple(X_arr.shape[1:])
        self.n_features_in_ = int(np.prod(self.input_shape_))
        names = feature_names_of(X)
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.decision_scores_ = all_scores
        self.offset_ = self._threshold(all_scores)
        return self

    def _score_name(self) -> str:
        if self.anomaly_score != "auto":
            return self.anomaly_score
        return "tails" if self.autoencoder == "ensemble" else "joint"

    @property
    def autoencoder_(self):
        """The fitted AutoEncoder; None for the ensemble (``members_.model``)."""
        self._check_fitted()
        return getattr(self.members_, "autoencoder", None)

    # -- PyOD's names, in PyOD's sign (higher = more abnormal) -------------------------------------
    @property
    def threshold_(self) -> float:
        """PyOD's threshold: ``-offset_``, on the anomaly-score scale (``-score_samples``)."""
        return -self.offset_

    @property
    def labels_(self) -> np.ndarray:
        """PyOD's labels of the training data: 1 for outliers, 0 for inliers."""
        return (self.decision_scores_ > self.threshold_).astype(int)

    def predict_proba(self, X, method: str = "linear") -> np.ndarray:
        """PyOD's outlier probability, ``(n_samples, 2)``: columns inlier, outlier (rows sum to 1).

        'linear' min-max scales the anomaly score by the training scores' range (clipped to [0, 1]);
        'unify' is ``erf`` of the score standardised by the training scores (Kriegel et al., 2011), as PyOD.
        Not calibrated: for a false-alarm rate, use :meth:`pvalues`.
        """
        scores, train = self._anomaly_scores(X), self.decision_scores_
        if method == "linear":
            span = train.max() - train.min()
            p = (scores - train.min()) / (span if span > 0 else 1.0)
        elif method == "unify":
            from scipy.special import erf

            p = erf((scores - train.mean()) / ((train.std() or 1.0) * np.sqrt(2)))
        else:
            raise ValueError(f"method must be 'linear' or 'unify' (PyOD's), got {method!r}")
        p = np.clip(p, 0.0, 1.0)
        return np.column_stack([1.0 - p, p])

    def _check_params(self) -> None:
        validate_params(self)  # every parameter (and the template autoencoder's), before any data are read
        if self.alpha is not None and self.calibration_fraction == 0:
            raise ValueError("alpha needs a calibration split, but calibration_fraction=0; "
                             "set calibration_fraction (e.g. 0.2) or use contamination instead of alpha")

    def _split(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        n_cal = int(round(self.calibration_fraction * n))
        if self.alpha is not None:
            need = math.ceil(1.0 / self.alpha) - 1  # with fewer, no p-value can reach alpha
            if n_cal < need:
                raise ValueError(
                    f"alpha={self.alpha} needs at least {need} calibration samples, but "
                    f"calibration_fraction={self.calibration_fraction} of {n} samples gives {n_cal}; "
                    "pass more data, raise calibration_fraction, or raise alpha"
                )
        if n - n_cal < 2:
            raise ValueError(f"{n} samples leave {n - n_cal} to train on after the calibration split; "
                             "pass more data or lower calibration_fraction")
        order = np.random.default_rng(seed).permutation(n)
        return np.sort(order[n_cal:]), np.sort(order[:n_cal])

    def _threshold(self, all_scores: np.ndarray) -> float:
        if self.alpha is None:
            # as scikit-learn's offset_: the contamination quantile of the (normality) scores of X
            return float(np.quantile(-all_scores, self.contamination))
        cal = self.calibration_scores_  # sorted anomaly scores, ascending
        # Flag a when p(a) <= alpha, i.e. when at most m calibration scores are >= a:
        # threshold at the (m+1)-th largest calibration score.
        m = math.floor(self.alpha * (len(cal) + 1)) - 1
        return float(-cal[::-1][m])

    # -- scoring ---------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "members_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                                 "appropriate arguments before using this estimator.")

    def _validate(self, X) -> np.ndarray:
        self._check_fitted()
        ranks = (1,) if self.autoencoder_ is None else type(self.autoencoder_.model_).sample_ranks
        arr = check_array(X, sample_ranks=ranks, estimator=type(self).__name__)
        check_n_features(arr, self.input_shape_, estimator=type(self).__name__)
        return arr

    def _scores_of(self, arr: np.ndarray) -> np.ndarray:
        """Anomaly scores of validated ``arr``, ``CHUNK_ROWS`` rows at a time."""
        em = self.error_model_
        parts = (self.members_.parts(arr[i:i + CHUNK_ROWS], codes=em.uses_codes)
                 for i in range(0, len(arr), CHUNK_ROWS))
        return np.concatenate([em.score(*p) for p in parts]) if len(arr) else np.zeros(0)

    def _anomaly_scores(self, X) -> np.ndarray:
        return self._scores_of(self._validate(X))

    def score_samples(self, X) -> np.ndarray:
        """Normality score per sample, ``(n_samples,)``: higher = more normal (minus the anomaly score)."""
        return -self._anomaly_scores(X)

    def decision_function(self, X) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for outliers, positive for inliers."""
        return self.score_samples(X) - self.offset_

    def predict(self, X) -> np.ndarray:
        """-1 for outliers, 1 for inliers (scikit-learn's convention; PyOD's is 1 / 0)."""
        return np.where(self.decision_function(X) < 0, -1, 1)

    def pvalues(self, X) -> np.ndarray:
        """Conformal p-values, ``(n_samples,)``: ``(1 + #{calibration scores >= score}) / (n_cal + 1)``.

        Small means unusual. For a normal sample (exchangeable with the calibration data), the chance of a
        p-value at most ``a`` is at most ``a``.
        """
        self._check_fitted()
        self._check_calibrated()
        return self.pvalues_of_scores(-self.score_samples(X))

    def pvalues_of_scores(self, anomaly_scores) -> np.ndarray:
        """The p-values of already computed anomaly scores (``-score_samples``): score once, use twice."""
        self._check_fitted()
        self._check_calibrated()
        scores = np.asarray(anomaly_scores, dtype=np.float64)
        cal = self.calibration_scores_
        at_least = len(cal) - np.searchsorted(cal, scores, side="left")
        return (1.0 + at_least) / (len(cal) + 1.0)

    def _check_calibrated(self) -> None:
        if self.n_calibration_ == 0:
            raise ValueError("this detector was fitted with calibration_fraction=0, so it has no calibration "
                             "scores for p-values; refit with calibration_fraction > 0 (e.g. 0.2)")

    # -- explanation -----------------------------------------------------------------------------
    def explain(self, X):
        """Each feature's share of each sample's anomaly score, ``(n_samples, n_features)``; rows sum to 1.

        With the default score ('tails'), a feature's part is the ``-log`` two-sided tail probability of its
        residual (how badly it breaks the autoencoders' picture of how the features go together). With the
        other scores, its squared error divided by its mean on the training data, so a feature that is always
        hard to reconstruct does not dominate. For a pandas DataFrame input the result is a DataFrame with the
        same columns and index; otherwise an ndarray (column names are in
        ``feature_names_in_`` and :meth:`top_features`).
        """
        arr = self._validate(X)
        shares = self.error_model_.feature_shares(self.members_.parts(arr, codes=False)[0])
        if hasattr(X, "columns") and hasattr(X, "index"):
            import pandas as pd

            return pd.DataFrame(shares, columns=X.columns, index=X.index)
        return shares

    def feature_names(self) -> list:
        """Column names seen in ``fit``, or ``x1, x2, ...`` (as ``aekit`` writes CSV columns)."""
        self._check_fitted()
        if hasattr(self, "feature_names_in_"):
            return [str(n) for n in self.feature_names_in_]
        return [f"x{i + 1}" for i in range(self.n_features_in_)]

    def top_features(self, X, k: int = 3) -> list:
        """Per sample, the ``k`` features with the largest share of the error: a list of ``[(name, share)...]``."""
        check_param("k", k, Integer(0), f"{type(self).__name__}.top_features")
        shares = np.asarray(self.explain(X))
        names = self.feature_names()
        order = np.argsort(-shares, axis=1, kind="stable")[:, :k]
        return [[(names[j], float(row[j])) for j in idx] for row, idx in zip(shares, order)]

    # -- model files -----------------------------------------------------------------------------
    def save(self, path, overwrite: bool = False):
        """Write the fitted detector (networks, error model, calibration scores) to ``path``; no pickle."""
        self._check_fitted()
        tensors = {f"members.{k}": v for k, v in self.members_.tensors().items()}
        tensors.update({f"error_model.{k}": v for k, v in self.error_model_.state().items()})
        tensors["calibration_scores"] = self.calibration_scores_
        tensors["decision_scores"] = self.decision_scores_
        params = {k: v for k, v in self.get_params(deep=False).items() if k != "autoencoder"}
        if not (params["random_state"] is None or isinstance(params["random_state"], int)):
            params["random_state"] = None
        config = {
            "class": type(self).__name__,
            "detector_format": DETECTOR_FORMAT,
            "params": params,
            "members": self.members_.config(),
            "threshold": self.offset_,
            "n_calibration": self.n_calibration_,
            "input_shape": list(self.input_shape_),
            "feature_names": None if not hasattr(self, "feature_names_in_") else list(self.feature_names_in_),
        }
        persistence.save_bundle(path, tensors, config, overwrite=overwrite)
        return path

    @classmethod
    def _from_bundle(cls, tensors: dict, config: dict):
        if config.get("detector_format") != DETECTOR_FORMAT:
            raise ModelFileError(
                f"this detector file has layout {config.get('detector_format', 1)} (an aekit from before the "
                f"ensemble detector); this aekit reads layout {DETECTOR_FORMAT} only. Refit it: "
                "aekit fit-detector TRAIN -o detector.safetensors (or AnomalyDetector().fit(X).save(path))")

        def part(prefix):
            return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}

        kinds = {"ensemble": EnsembleMembers, "autoencoder": AutoEncoderMembers}
        spec = config.get("members")
        if not isinstance(spec, dict) or spec.get("kind") not in kinds:
            raise ModelFileError(f"this detector file has a damaged header: 'members' is {spec!r}, expected an "
                                 f"object whose 'kind' is one of {', '.join(kinds)}; refit and save the detector")
        members = kinds[spec["kind"]].from_bundle(part("members."), spec)
        ae = getattr(members, "autoencoder", None)
        det = cls(autoencoder="ensemble" if ae is None else clone(ae), **config["params"])
        det.members_ = members
        det.error_model_ = ErrorModel.from_state(det._score_name(), part("error_model."))
        det.calibration_scores_ = np.asarray(tensors["calibration_scores"], dtype=np.float64)
        det.n_calibration_ = int(config["n_calibration"])
        det.offset_ = float(config["threshold"])
        det.decision_scores_ = np.asarray(tensors.get("decision_scores", []), dtype=np.float64)
        det.input_shape_ = tuple(config["input_shape"])
        det.n_features_in_ = int(np.prod(det.input_shape_))
        if config.get("feature_names"):
            det.feature_names_in_ = np.asarray(config["feature_names"], dtype=object)
        return det

