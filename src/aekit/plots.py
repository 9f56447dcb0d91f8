"""Plot functions: each takes data and an optional matplotlib Axes, and returns the Axes.

Only the CLI and the report save files; nothing here writes to disk or calls ``plt.show``.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np


def _axes(ax, figsize=(6, 4)):
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained").add_subplot()


def plot_history(history: dict, ax=None, terms: bool = True):
    """Loss curves per epoch: loss and val_loss, plus each named loss term when there are several."""
    ax = _axes(ax)
    epochs = np.arange(1, len(history.get("loss", [])) + 1)
    for key, style in (("loss", "-"), ("val_loss", "--")):
        if key in history:
            ax.plot(epochs, history[key], style, label=key)
    skip = {"loss", "val_loss", "seconds", "code_activation", "best_epoch", "val_code_activation"}
    extra = [k for k in history if k not in skip and isinstance(history[k], list)]
    if terms and len([k for k in extra if not k.startswith("val_")]) > 1:
        for key in extra:
            ax.plot(epochs, history[key], ":" if key.startswith("val_") else "-.", label=key, alpha=0.8)
    if "best_epoch" in history:
        ax.axvline(history["best_epoch"] + 1, color="grey", lw=0.8, ls=":", label="best epoch")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("Training history")
    ax.legend()
    return ax


def image_montage(rows: Sequence[np.ndarray], image_shape: tuple, pad: int = 1) -> np.ndarray:
    """Tile equal-length stacks of flat images into one 2-D array: one stack per row of the montage."""
    h, w = image_shape[-2], image_shape[-1]
    n = len(rows[0])
    out = np.ones((len(rows) * (h + pad) - pad, n * (w + pad) - pad), dtype=np.float32)
    for r, stack in enumerate(rows):
        for i, img in enumerate(np.asarray(stack)[:n]):
            out[r * (h + pad):r * (h + pad) + h, i * (w + pad):i * (w + pad) + w] = np.reshape(img, (-1, h, w))[0]
    return out


def plot_reconstructions(originals: np.ndarray, reconstructions: np.ndarray, image_shape: tuple,
                         n: int = 10, ax=None, row_labels=("original", "reconstruction")):
    """Originals (top row) over their reconstructions (bottom row), as grey images."""
    n = min(n, len(originals))
    ax = _axes(ax, figsize=(max(4, n * 0.9), 2.2))
    ax.imshow(image_montage([originals[:n], reconstructions[:n]], image_shape), cmap="gray", vmin=0, vmax=1)
    h = image_shape[-2]
    ax.set_yticks([h / 2, h * 1.5 + 1], labels=list(row_labels))
    ax.set_xticks([])
    return ax


def plot_image_rows(rows: Sequence[np.ndarray], image_shape: tuple, row_labels: Sequence[str],
                    ax=None, title: Optional[str] = None):
    """Any number of image rows (e.g. noisy / denoised / clean), one label per row."""
    n = len(rows[0])
    ax = _axes(ax, figsize=(max(4, n * 0.9), 1.1 * len(rows)))
    ax.imshow(image_montage(rows, image_shape), cmap="gray", vmin=0, vmax=1)
    h = image_shape[-2]
    ax.set_yticks([(h + 1) * i + h / 2 for i in range(len(rows))], labels=list(row_labels))
    ax.set_xticks([])
    if title:
        ax.set_title(title)
    return ax


def plot_codes(codes: np.ndarray, labels: Optional[np.ndarray] = None, ax=None, title: str = "Codes",
               label_names: Optional[Sequence[str]] = None, max_points: int = 20000, random_state: int = 0):
    """Scatter of the first two code dimensions, coloured by label when labels are given."""
    ax = _axes(ax, figsize=(6, 5))
    codes = np.asarray(codes)
    if len(codes) > max_points:  # keep plots readable and fast
        keep = np.random.default_rng(random_state).choice(len(codes), max_points, replace=False)
        codes = codes[keep]
        labels = None if labels is None else np.asarray(labels)[keep]
    y = codes[:, 1] if codes.shape[1] > 1 else np.zeros(len(codes))
    if labels is None:
        ax.scatter(codes[:, 0], y, s=4, alpha=0.6)
    else:
        labels = np.asarray(labels)
        for value in np.unique(labels):
            m = labels == value
            name = label_names[int(value)] if label_names is not None and np.issubdtype(labels.dtype, np.integer) else value
            ax.scatter(codes[m, 0], y[m], s=4, alpha=0.6, label=str(name))
        ax.legend(markerscale=3, fontsize="small", loc="best", ncols=2 if len(np.unique(labels)) > 6 else 1)
    ax.set_xlabel("code 1")
    ax.set_ylabel("code 2" if codes.shape[1] > 1 else "")
    ax.set_title(title)
    return ax


def save_figure(ax, path) -> None:
    """Write the figure holding ``ax`` to ``path`` (PNG), atomically."""
    from ._atomic import atomic_path

    with atomic_path(path) as tmp:
        ax.figure.savefig(tmp, dpi=110, format=str(path).rsplit(".", 1)[-1])


# -- pieces of the run report (aekit.report); usable on their own ---------------------------------------
_NOT_TERMS = {"loss", "seconds", "code_activation", "best_epoch"}


def plot_loss_terms(history: dict, ax=None):
    """Each named loss term per epoch (reconstruction, KL, penalties): training solid, validation dashed.

    A log scale is used when the terms differ by more than a factor of 100.
    """
    ax = _axes(ax)
    terms = [k for k, v in history.items() if isinstance(v, list) and k not in _NOT_TERMS
             and not k.startswith("val_")]
    epochs = np.arange(1, len(history.get("loss", [])) + 1)
    for i, key in enumerate(terms):
        colour = f"C{i}"
        ax.plot(epochs, history[key], "-", color=colour, label=key)
        if "val_" + key in history:
            ax.plot(epochs, history["val_" + key], "--", color=colour, label="val_" + key)
    finals = [abs(history[k][-1]) for k in terms if history[k]]
    if finals and min(finals) > 0 and max(finals) / min(finals) > 100:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("loss term")
    ax.set_title("Loss terms" if terms else "Loss terms (none recorded)")
    if terms:
        ax.legend()
    return ax


def plot_error_histogram(errors: np.ndarray, threshold: Optional[float] = None, ax=None, bins: int = 50,
                         xlabel: str = "reconstruction error (MSE, scaled units)"):
    """Histogram of per-sample errors, with a vertical line at ``threshold`` (a detector's) when given."""
    ax = _axes(ax)
    errors = np.asarray(errors, dtype=np.float64)
    ax.hist(errors, bins=bins, color="C0", alpha=0.8)
    if threshold is not None:
        flagged = float(np.mean(errors > threshold))
        ax.axvline(threshold, color="C3", lw=1.5, label=f"threshold {threshold:.4g} ({flagged:.1%} above)")
        ax.legend()
    ax.set_xlabel(xlabel)
    ax.set_ylabel("samples")
    ax.set_title("Reconstruction error")
    return ax


def _worst(errors, n):
    order = np.argsort(-np.asarray(errors), kind="stable")
    return order[:min(n, len(order))]


def plot_worst_reconstructions(originals: np.ndarray, reconstructions: np.ndarray, errors: np.ndarray,
                               image_shape: Optional[tuple] = None, n: int = 8, ax=None,
                               feature_names: Optional[Sequence[str]] = None):
    """The ``n`` samples with the highest error, worst first: images as original over reconstruction,
    table rows as their values (solid) against the reconstruction (dashed)."""
    idx = _worst(errors, n)
    errors = np.asarray(errors)
    if image_shape is not None:
        ax = plot_reconstructions(np.asarray(originals)[idx], np.asarray(reconstructions)[idx], image_shape,
                                  n=len(idx), ax=ax)
        w = image_shape[-1]
        ax.set_xticks([(w + 1) * i + w / 2 for i in range(len(idx))],
                      labels=[f"{errors[i]:.3g}" for i in idx], fontsize="small")
        ax.set_xlabel("error of each sample")
    else:
        ax = plot_feature_reconstructions(np.asarray(originals)[idx[:5]], np.asarray(reconstructions)[idx[:5]],
                                          ax=ax, feature_names=feature_names,
                                          labels=[f"#{i} error {errors[i]:.3g}" for i in idx[:5]])
    ax.set_title("Worst reconstructed samples (highest error first)")
    return ax


def plot_feature_reconstructions(originals: np.ndarray, reconstructions: np.ndarray, ax=None,
                                 feature_names: Optional[Sequence[str]] = None,
                                 labels: Optional[Sequence[str]] = None):
    """Table rows against their reconstructions: one colour per row, values solid, reconstruction dashed."""
    originals = np.asarray(originals).reshape(len(originals), -1)
    reconstructions = np.asarray(reconstructions).reshape(len(reconstructions), -1)
    ax = _axes(ax, figsize=(max(5, min(12, originals.shape[1] * 0.5)), 3.5))
    x = np.arange(originals.shape[1])
    for i in range(len(originals)):
        name = labels[i] if labels is not None else f"sample {i}"
        ax.plot(x, originals[i], "o-", color=f"C{i % 10}", ms=3, label=name)
        ax.plot(x, reconstructions[i], "--", color=f"C{i % 10}", alpha=0.8)
    if feature_names is not None and len(x) <= 30:
        ax.set_xticks(x, labels=list(feature_names), rotation=45, ha="right", fontsize="small")
    ax.set_xlabel("feature")
    ax.set_ylabel("value (solid) / reconstruction (dashed)")
    ax.set_title("Originals and reconstructions")
    ax.legend(fontsize="small")
    return ax


def plot_pca_comparison(rows: Sequence[dict], metric: str = "reconstruction_mse", ax=None):
    """Bars of one metric per method, from rows such as ``compare_with_pca`` returns
    (keys ``method``, ``dim`` and the metric); rows without the metric are left out."""
    ax = _axes(ax, figsize=(5, 2.5))
    rows = [r for r in rows if r.get(metric) is not None]
    names = [f"{r['method']} ({r['dim']}-D)" for r in rows]
    values = [float(r[metric]) for r in rows]
    bars = ax.barh(names, values, color=[f"C{i}" for i in range(len(rows))])
    ax.bar_label(bars, labels=[f"{v:.4g}" for v in values], padding=3, fontsize="small")
    ax.invert_yaxis()
    ax.set_xlabel(metric.replace("_", " "))
    ax.margins(x=0.2)
    ax.set_title("Autoencoder vs PCA")
    return ax


def plot_score_histogram(scores: np.ndarray, labels: Optional[np.ndarray] = None, threshold: Optional[float] = None,
                         ax=None, bins: int = 50, title: str = "Anomaly scores", log: bool = False):
    """Histogram of anomaly scores (higher = more anomalous), split by 0/1 labels (1 = outlier) when given,
    with the detector's threshold as a vertical line. ``log=True`` uses a log axis (positive scores only)."""
    ax = _axes(ax, figsize=(6, 3.5))
    scores = np.asarray(scores, dtype=float)
    if log:
        edges = np.geomspace(scores.min(), scores.max(), bins + 1)
        ax.set_xscale("log")
    else:
        edges = np.histogram_bin_edges(scores, bins=bins)
    if labels is None:
        ax.hist(scores, bins=edges, alpha=0.7, label="samples")
    else:
        labels = np.asarray(labels)
        ax.hist(scores[labels == 0], bins=edges, alpha=0.6, density=True, label="inliers")
        ax.hist(scores[labels == 1], bins=edges, alpha=0.6, density=True, label="outliers")
        ax.set_ylabel("density")
    if threshold is not None:
        ax.axvline(threshold, color="k", ls="--", lw=1, label="threshold")
    ax.set_xlabel("anomaly score")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def plot_rate_distortion(rows: Sequence[dict], ax=None, x: str = "bits_per_sample", y: str = "psnr"):
    """One line per ``method`` through its (``x``, ``y``) points, e.g. bits per sample against PSNR."""
    ax = _axes(ax, figsize=(6, 4))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    for method in methods:
        pts = sorted((r[x], r[y]) for r in rows if r["method"] == method)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=method)
    ax.set_xscale("log", base=2)
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel("PSNR (dB)" if y == "psnr" else y)
    ax.set_title("Rate-distortion")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def plot_calibration(alphas: Sequence[float], flagged: Sequence[float], ax=None):
    """Fraction of normal samples flagged against the target false-alarm rate ``alpha`` (the diagonal is ideal)."""
    ax = _axes(ax, figsize=(4, 4))
    top = max(max(alphas), max(flagged)) * 1.1
    ax.plot([0, top], [0, top], color="grey", ls=":", lw=1, label="flagged = alpha")
    ax.plot(alphas, flagged, "o-", label="measured")
    ax.set_xlabel("alpha (target false-alarm rate)")
    ax.set_ylabel("fraction of normal samples flagged")
    ax.set_title("Calibration")
    ax.legend(fontsize="small")
    return ax
