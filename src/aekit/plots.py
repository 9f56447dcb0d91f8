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
