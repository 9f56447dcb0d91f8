"""What a report shows, computed once from a fitted model and data: no HTML and no figures here."""
from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ..exceptions import DataError

logger = logging.getLogger(__name__)

#: ``apply(fn, X, what)`` runs ``fn`` over ``X``; the CLI passes one that shows progress
Apply = Callable[[Callable, np.ndarray, str], np.ndarray]


def _plain_apply(fn, X, what):
    return fn(X)


@dataclass
class ReportContent:
    """Everything a report shows. Samples are flat rows ``(n, n_features)`` in the units of the data."""

    title: str
    settings: dict  # estimator parameters
    defaults: dict  # their default values, to tell which were set
    model: dict
    training: list  # (name, value) rows
    data: list  # (name, value) rows
    history: dict
    X: np.ndarray  # the evaluated samples, a seeded random subset of at most max_points, shuffled
    index: np.ndarray  # their positions in the data given
    y: Optional[np.ndarray]
    label_names: list
    codes: np.ndarray  # (n, latent_dim)
    coords: np.ndarray  # (n, 2): what the scatter and the explorer show
    axis_labels: tuple
    projection_note: str
    errors: np.ndarray  # (n,) reconstruction error (mean squared, in the scaled units the model trains in)
    image_shape: Optional[tuple] = None
    feature_names: Optional[list] = None
    scores: Optional[np.ndarray] = None  # a detector's anomaly score (higher = more anomalous)
    threshold: Optional[float] = None
    detector_note: str = ""
    pca_rows: list = field(default_factory=list)
    pca_note: str = ""
    variational: bool = False
    to_latent: Optional[Callable] = None  # (m, 2) explorer coordinates -> (m, latent_dim) codes
    decode: Optional[Callable] = None  # (m, latent_dim) codes -> (m, n_features) samples in data units
    reconstruct: Optional[Callable] = None  # flat rows -> flat reconstructions in data units


def is_variational(est) -> bool:
    """A variational model: its module says so (``variational = True``) or its kind does (``vae``, ``conv_vae``)."""
    model = getattr(est, "model_", None)
    kind = str(getattr(model, "kind", getattr(est, "kind", ""))).lower()
    return bool(getattr(model, "variational", False)) or "vae" in kind or "variational" in kind


def collect(est, X, y=None, *, X_train=None, detector=None, image_shape=None, feature_names=None,
            target_names=None, dataset_name: str = "data", split_name: str = "evaluation data",
            max_points: int = 20000, random_state: int = 0, apply: Optional[Apply] = None) -> ReportContent:
    """Encode and score ``X`` with the fitted autoencoder ``est`` and gather what the report shows.

    ``X`` holds flat rows (or samples of ``est.input_shape_``); ``X_train`` (optional) is summarised in the
    data section and fits the PCA of the fallback comparison. ``detector`` is an optional fitted anomaly
    detector with ``threshold_`` and ``score_samples``.
    """
    apply = apply or _plain_apply
    est._check_fitted()
    shape = tuple(est.input_shape_)
    X = np.asarray(X, dtype=np.float32)
    if len(X) == 0:
        raise DataError("X has no samples; a report needs at least one sample to evaluate")
    X = X.reshape(len(X), -1)
    if y is not None and len(y) != len(X):
        raise ValueError(f"y has {len(y)} labels, but X has {len(X)} samples; give one label per sample or y=None")
    if isinstance(max_points, bool) or not isinstance(max_points, (int, np.integer)) or max_points < 1:
        raise ValueError(f"max_points must be a positive integer, got {max_points!r}")
    rng = np.random.default_rng(random_state)
    # a random subset (all when small), in random order so that no label is always drawn on top
    index = rng.permutation(len(X))[:max_points]
    Xs = X[index]
    ys = None if y is None else np.asarray(y)[index]
    as_model = (lambda A: A) if len(shape) == 1 else (lambda A: A.reshape((len(A),) + shape))
    codes = apply(lambda A: est.transform(as_model(A)), Xs, "encoding")
    errors = apply(lambda A: est.reconstruction_error(as_model(A)), Xs, "scoring")
    coords, axis_labels, note, to_latent = project(codes)
    labels, label_names = _labels(ys, target_names)
    if feature_names is None:
        feature_names = getattr(est, "feature_names_in_", None)
    content = ReportContent(
        title=f"{getattr(est.model_, 'kind', 'autoencoder')} autoencoder on {dataset_name}",
        settings={k: v for k, v in est.get_params(deep=False).items() if k != "validation_data"},
        defaults=type(est)().get_params(deep=False),
        model={"kind": est.model_.kind, **est.model_.config.to_dict()},
        training=training_summary(est.history_), data=[], history=est.history_,
        X=Xs, index=index, y=labels, label_names=label_names, codes=codes, coords=coords,
        axis_labels=axis_labels, projection_note=note, errors=errors, image_shape=image_shape,
        feature_names=None if feature_names is None else [str(f) for f in feature_names],
        variational=is_variational(est), to_latent=to_latent,
        decode=lambda Z: est.inverse_transform(Z).reshape(len(Z), -1),
        reconstruct=lambda A: est.predict(as_model(A)).reshape(len(A), -1),
    )
    content.data = data_summary(est, X, X_train, dataset_name, split_name, len(index), image_shape, label_names)
    if detector is not None:
        _add_detector(content, detector, as_model, apply)
    Xt = None if X_train is None else np.asarray(X_train, dtype=np.float32).reshape(len(X_train), -1)
    content.pca_rows, content.pca_note = pca_comparison(est, Xs, labels if ys is not None else None, Xt, as_model)
    return content


def project(codes: np.ndarray):
    """2-D coordinates of the codes: the codes themselves up to two dimensions, else their 2-D PCA.

    Returns ``(coords, axis_labels, note, to_latent)``; ``to_latent`` maps 2-D points back to codes.
    """
    codes = np.asarray(codes, dtype=np.float64)
    k = codes.shape[1]
    if k == 1:
        coords = np.column_stack([codes[:, 0], np.zeros(len(codes))])
        return coords, ("code 1", "(1-D code)"), "the 1-D code", lambda P: np.asarray(P)[:, :1]
    if k == 2:
        return codes, ("code 1", "code 2"), "the two code dimensions", lambda P: np.asarray(P, dtype=np.float64)
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2, random_state=0).fit(codes)
    share = float(pca.explained_variance_ratio_.sum())
    note = f"a 2-D PCA projection of the {k}-D codes (it explains {share:.1%} of their variance)"
    return pca.transform(codes), ("PC 1 of the codes", "PC 2 of the codes"), note, pca.inverse_transform


def _labels(y, target_names):
    """Labels as small integers with display names (None when there are no labels)."""
    if y is None:
        return None, []
    y = np.asarray(y)
    values, inverse = np.unique(y, return_inverse=True)
    if target_names is not None and np.issubdtype(values.dtype, np.integer) and values.max() < len(target_names):
        names = [str(target_names[int(v)]) for v in values]
    else:
        names = [str(v) for v in values]
    return inverse.astype(np.int32), names


def training_summary(history: dict) -> list:
    rows = [("epochs run", len(history.get("loss", [])))]
    if "best_epoch" in history:
        rows.append(("best epoch (weights kept)", int(history["best_epoch"]) + 1))
    for key in ("loss", "val_loss", "code_activation"):
        if history.get(key):
            rows.append((f"final {key}", f"{history[key][-1]:.5g}"))
    if history.get("seconds"):
        rows.append(("training time", f"{sum(history['seconds']):.1f} s"))
    return rows


def _range(A: np.ndarray) -> str:
    return f"[{A.min():.4g}, {A.max():.4g}], mean {A.mean():.4g}, std {A.std():.4g}"


def data_summary(est, X, X_train, name, split_name, n_shown, image_shape, label_names) -> list:
    ref = X if X_train is None else np.asarray(X_train, dtype=np.float32).reshape(len(X_train), -1)
    rows = [("dataset", name)]
    if X_train is not None:
        rows.append(("training samples", f"{len(X_train)} x {est.n_features_in_} features"))
    shown = f" ({n_shown} random ones evaluated)" if n_shown < len(X) else ""
    rows += [(split_name, f"{len(X)} samples{shown}"),
             ("sample shape", str(tuple(est.input_shape_)) + (f", images {tuple(image_shape)}" if image_shape else ""))]
    rows.append(("labels", f"{len(label_names)} classes: {', '.join(label_names[:20])}" if label_names else "none"))
    kind = est.scaler_.kind
    rows.append(("scaling", f"{kind} (fitted on the training data)" if kind
                 else f"none (scaling={est.scaling!r}; the data already lie in [0, 1] or scaling was off)"))
    rows.append(("value range " + ("(training data)" if X_train is not None else f"({split_name})"), _range(ref)))
    sample = ref[:5000].reshape((min(len(ref), 5000),) + tuple(est.input_shape_))
    rows.append(("value range as the model sees it", _range(np.asarray(est.scaler_.transform(sample)))))
    cfg = est.model_.config
    rows.append(("output activation, loss", f"{cfg.output_activation}, {cfg.loss}"))
    return rows


def _add_detector(content: ReportContent, detector, as_model, apply) -> None:
    """The detector's anomaly score (-score_samples) and its threshold on that scale, when one can be told."""
    scores = -apply(lambda A: detector.score_samples(as_model(A)), content.X, "scoring with the detector")
    content.scores = scores
    t = getattr(detector, "threshold_", None)
    if t is None:
        content.detector_note = "the detector has no threshold_"
        return
    t = float(t)
    flagged = None
    if hasattr(detector, "predict"):
        flagged = np.asarray(apply(lambda A: detector.predict(as_model(A)), content.X, "predicting")) == -1
    # threshold_ may be kept on the anomaly-score scale or on the score_samples scale: use the one that
    # reproduces the detector's own predictions
    for candidate in (t, -t):
        if flagged is None or np.mean((scores > candidate) == flagged) > 0.99:
            content.threshold = candidate
            content.detector_note = (f"{type(detector).__name__} with threshold_ = {t:.4g}; "
                                     f"{np.mean(scores > candidate):.1%} of these samples lie above it")
            return
    content.detector_note = f"threshold_ = {t:.4g} does not match the detector's predictions, so it is not drawn"


def pca_comparison(est, X, y, X_train, as_model, max_samples: int = 2000):
    """Rows like ``aekit.applications.reduction.compare_with_pca``; a reconstruction-MSE-only fallback
    (PCA fitted on the training data when given) when that function is not installed."""
    rng = np.random.default_rng(1)
    pick = rng.permutation(len(X))[:max_samples]
    Xs, ys = X[pick], None if y is None else y[pick]
    try:
        from ..applications.reduction import compare_with_pca
    except ImportError:
        compare_with_pca = None
    why = "aekit.applications.reduction is not installed"
    if compare_with_pca is not None:
        accepted = inspect.signature(compare_with_pca).parameters
        extra = {"X_fit": None if X_train is None else as_model(X_train[:20000])}
        kwargs = {k: v for k, v in extra.items() if k in accepted and v is not None}
        try:
            rows = compare_with_pca(est, as_model(Xs), ys, n_neighbors=5, **kwargs)
            return list(rows), (f"aekit.applications.reduction.compare_with_pca on {len(Xs)} of the evaluated "
                                "samples (errors in the units of the data)")
        except (ValueError, TypeError, RuntimeError) as e:  # the report still shows the plain comparison
            logger.warning("compare_with_pca failed (%s); showing the reconstruction MSE only", e)
            why = f"compare_with_pca failed: {e}"
    return _mse_rows(est, Xs, X_train, as_model, rng), (
        f"reconstruction MSE on {len(Xs)} of the evaluated samples, in the units of the data; PCA fitted on the "
        f"{'training data' if X_train is not None else 'same samples'} ({why}, so trustworthiness and "
        "k-NN accuracy are not computed)")


def _mse_rows(est, Xs, X_train, as_model, rng) -> list:
    from sklearn.decomposition import PCA

    dim = int(est.model_.config.latent_dim)
    fit_on = Xs if X_train is None else X_train[rng.permutation(len(X_train))[:20000]]
    pca = PCA(n_components=min(dim, *fit_on.shape), random_state=0).fit(fit_on)
    pca_mse = float(np.mean((pca.inverse_transform(pca.transform(Xs)) - Xs) ** 2))
    ae = est.predict(as_model(Xs)).reshape(len(Xs), -1)
    ae_mse = float(np.mean((ae.astype(np.float64) - Xs) ** 2))
    empty = {"trustworthiness": None, "knn_accuracy": None}
    return [{"method": "autoencoder", "dim": dim, "reconstruction_mse": ae_mse, **empty},
            {"method": "pca", "dim": int(pca.n_components_), "reconstruction_mse": pca_mse, **empty}]
