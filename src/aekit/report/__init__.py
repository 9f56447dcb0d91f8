"""Reports a person can look at: one self-contained HTML page per trained model.

The page holds the settings and a data summary, loss curves, originals over reconstructions, the latent
scatter with an interactive explorer, the reconstruction-error histogram (with a detector's threshold), the
worst-reconstructed samples and the comparison with PCA. Each figure comes from a function in
:mod:`aekit.plots`; the explorer is plain JavaScript bundled with aekit and inlined into the page.

Examples
--------
>>> import aekit
>>> from aekit.report import build_report
>>> ds = aekit.datasets.load_digits()
>>> est = aekit.AutoEncoder(latent_dim=2, hidden=(16,), epochs=2, random_state=0).fit(ds.X[:300])
>>> page = build_report(est, ds.X[:300], ds.y[:300], image_shape=ds.image_shape, dataset_name="digits")
>>> page.startswith("<!DOCTYPE html>") and "http://" not in page and "https://" not in page
True
"""
from __future__ import annotations

from pathlib import Path

from .content import ReportContent, collect, is_variational, project
from .explorer import explorer_html
from .html import page
from .run import RUN_FILE, read_run_info, report_for_run, write_run_info
from .sections import build_sections

__all__ = ["RUN_FILE", "ReportContent", "build_report", "collect", "explorer_html", "is_variational", "project",
           "read_run_info", "report_for_run", "write_report", "write_run_info"]


def build_report(estimator, X, y=None, *, title=None, meta: str = "", explorer: bool = True, decode_grid=None,
                 max_thumbnails: int = 10000, **collect_options) -> str:
    """The report of a fitted :class:`~aekit.AutoEncoder` evaluated on ``X``, as one HTML string.

    Parameters
    ----------
    estimator : fitted AutoEncoder
    X : array of shape (n_samples, n_features) or (n_samples, *input_shape)
        Data to evaluate (a held-out split when there is one); at most ``max_points`` random samples are used.
    y : array of shape (n_samples,), optional
        Labels that colour the scatter and the explorer.
    title, meta : str
        Page title (default: kind and dataset) and a line of context under it.
    explorer : bool, default True
        Include the interactive latent explorer.
    decode_grid : bool or None
        Decode a grid of latent points for click-to-decode; None does so for variational models only.
    max_thumbnails : int
        Image thumbnails kept for hovering (one sprite sheet).
    **collect_options
        ``X_train``, ``detector``, ``image_shape``, ``feature_names``, ``target_names``, ``dataset_name``,
        ``split_name``, ``max_points``, ``random_state``, ``apply``: see :func:`aekit.report.collect`.
    """
    content = collect(estimator, X, y, **collect_options)
    sections = build_sections(content, explorer=explorer, decode_grid=decode_grid, max_thumbnails=max_thumbnails)
    return page(title or f"aekit report: {content.title}", meta, sections)


def write_report(path, html_text: str) -> Path:
    """Write ``html_text`` to ``path`` atomically; returns the path."""
    from .._atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(html_text, encoding="utf-8")
    return path
