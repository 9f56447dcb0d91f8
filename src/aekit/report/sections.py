"""The report's sections, each built from a :class:`ReportContent` with aekit's plot functions."""
from __future__ import annotations

import numpy as np

from .. import plots
from .content import ReportContent
from .explorer import explorer_html
from .html import Section, esc, figure, key_values, table

N_SHOWN = 10  # samples in the reconstruction and worst-sample figures


def build_sections(c: ReportContent, explorer: bool = True, **explorer_options) -> list:
    return [settings(c), data(c), losses(c), reconstructions(c), latent(c, explorer, explorer_options),
            errors(c), worst(c), pca(c)]


def _value(v) -> str:
    if isinstance(v, (tuple, list)):
        return ", ".join(str(x) for x in v) if v else "()"
    return str(v)


def settings(c: ReportContent) -> Section:
    model = key_values((k, _value(v)) for k, v in c.model.items())
    missing = object()
    changed = [(k, _value(v)) for k, v in c.settings.items() if c.defaults.get(k, missing) != v]
    default = [(k, _value(v)) for k, v in c.settings.items() if c.defaults.get(k, missing) == v]
    params = key_values(changed) if changed else '<p class="note">All at their defaults.</p>'
    if default:
        params += f"<details><summary>{len(default)} parameters at their defaults</summary>{key_values(default)}</details>"
    body = (f'<div class="row"><div><h4>Model</h4>{model}</div><div><h4>Training</h4>{key_values(c.training)}'
            f"<h4>Estimator parameters set for this run</h4>{params}</div></div>")
    return Section("settings", "Settings", body)


def data(c: ReportContent) -> Section:
    return Section("data", "Data", key_values(c.data))


def losses(c: ReportContent) -> Section:
    if not c.history.get("loss"):
        return Section("loss", "Loss curves", '<p class="note">This model file carries no training history.</p>')
    from matplotlib.ticker import MaxNLocator

    ax = plots.plot_history(c.history, terms=False)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    curves = figure(ax, "loss and validation loss per epoch",
                    "Total loss per epoch" + (" (validation dashed)" if "val_loss" in c.history else
                                              " (no validation data was used)"))
    terms = figure(plots.plot_loss_terms(c.history), "each loss term per epoch",
                   "Each named term of the loss; validation dashed")
    return Section("loss", "Loss curves", f'<div class="row">{curves}{terms}</div>')


def reconstructions(c: ReportContent) -> Section:
    n = min(N_SHOWN if c.image_shape is not None else 5, len(c.X))
    recon = c.reconstruct(c.X[:n])
    if c.image_shape is not None:
        ax = plots.plot_reconstructions(c.X[:n], np.clip(recon, 0, 1) if c.X.min() >= 0 and c.X.max() <= 1 else recon,
                                        c.image_shape, n=n)
        ax.set_title("Originals over reconstructions")
    else:
        ax = plots.plot_feature_reconstructions(c.X[:n], recon, feature_names=plain_text(c.feature_names),
                                                labels=[f"#{i}" for i in c.index[:n]])
    return Section("reconstructions", "Originals and reconstructions",
                   figure(ax, "originals and their reconstructions", f"{n} random samples of the evaluated data"))


def plain_text(names):
    """Names as matplotlib draws them literally: a ``$`` would start mathtext (``$\\foo$`` fails to parse)."""
    return None if names is None else [str(n).replace("$", r"\$") for n in names]


def latent(c: ReportContent, explorer: bool, options: dict) -> Section:
    """The scatter of the codes, once: the interactive explorer, or (without it) a static figure."""
    if explorer:
        return Section("latent", "Latent space", explorer_html(c, **options))
    ax = plots.plot_codes(c.coords, c.y, title="Codes", label_names=plain_text(c.label_names) or None)
    ax.set_xlabel(c.axis_labels[0])
    ax.set_ylabel(c.axis_labels[1])
    body = figure(ax, "scatter of the codes", f"Axes: {c.projection_note}; coloured by label" if c.label_names
                  else f"Axes: {c.projection_note}")
    return Section("latent", "Latent space", body)


def _stats(values: np.ndarray) -> list:
    q = np.percentile(values, [50, 95, 99])
    return [("samples", len(values)), ("mean", f"{values.mean():.5g}"), ("median", f"{q[0]:.5g}"),
            ("95th percentile", f"{q[1]:.5g}"), ("99th percentile", f"{q[2]:.5g}"), ("max", f"{values.max():.5g}")]


def errors(c: ReportContent) -> Section:
    if c.scores is not None:
        ax = plots.plot_error_histogram(c.scores, c.threshold, xlabel="anomaly score (-score_samples)")
        ax.set_title("Anomaly score")
        note, values = c.detector_note, c.scores
    else:
        ax = plots.plot_error_histogram(c.errors)
        note = "No anomaly detector was fitted for this run, so no threshold is drawn."
        values = c.errors
    body = (f'<div class="row"><div>{figure(ax, "histogram of the reconstruction error")}</div>'
            f'<div>{key_values(_stats(np.asarray(values, dtype=np.float64)))}<p class="note">{esc(note)}</p>'
            "<p class=\"note\">Reconstruction error: the mean squared difference per feature, in the scaled units "
            "the model was trained in.</p></div></div>")
    return Section("errors", "Reconstruction error", body)


def worst(c: ReportContent) -> Section:
    idx = np.argsort(-c.errors, kind="stable")[:N_SHOWN]
    recon = c.reconstruct(c.X[idx])
    originals = c.X[idx]
    if c.image_shape is not None and c.X.min() >= 0 and c.X.max() <= 1:
        recon = np.clip(recon, 0, 1)
    ax = plots.plot_worst_reconstructions(originals, recon, c.errors[idx], image_shape=c.image_shape,
                                          n=len(idx), feature_names=plain_text(c.feature_names))
    rows = [(r + 1, f"#{c.index[i]}", c.label_names[c.y[i]] if c.y is not None else "", f"{c.errors[i]:.5g}")
            for r, i in enumerate(idx)]
    body = (figure(ax, "the worst reconstructed samples") +
            table(rows, ["rank", "sample", "label", "reconstruction error"], cls="num"))
    return Section("worst", "Worst reconstructed samples", body)


def _cell(v) -> str:
    return "-" if v is None else (f"{v:.5g}" if isinstance(v, float) else str(v))


#: the comparison's measures, and whether higher is better
MEASURES = {"reconstruction_mse": ("reconstruction error", False), "trustworthiness": ("trustworthiness", True),
            "knn_accuracy": ("k-NN accuracy", True)}


def pca_verdict(rows: list) -> str:
    """One plain sentence: on which measures PCA did better than the autoencoder, if on any."""
    by = {r.get("method"): r for r in rows}
    ae, pc = by.get("autoencoder"), by.get("pca")
    if ae is None or pc is None:
        return ""
    won, lost = [], []
    for key, (name, higher) in MEASURES.items():
        a, p = ae.get(key), pc.get(key)
        if a is None or p is None:
            continue
        (lost if (p > a if higher else p < a) else won).append(name)
    if not lost:
        return f"The autoencoder did better than PCA on every measure ({', '.join(won)})."
    return (f"PCA did better than this autoencoder on {', '.join(lost)}"
            + (f" (the autoencoder did better on {', '.join(won)})" if won else "") +
            ". A linear projection serves this data as well: train longer (more epochs) or choose PCA.")


def pca(c: ReportContent) -> Section:
    keys = ["method", "dim", "reconstruction_mse", "trustworthiness", "knn_accuracy"]
    rows = [[_cell(r.get(k)) for k in keys] for r in c.pca_rows]
    verdict = pca_verdict(c.pca_rows)
    body = (f'<p class="verdict"><strong>{esc(verdict)}</strong></p>' if verdict else "") + (
            f'<div class="row"><div>{table(rows, keys, cls="num")}<p class="note">{esc(c.pca_note)}</p></div>'
            f'<div>{figure(plots.plot_pca_comparison(c.pca_rows), "reconstruction error of the autoencoder and PCA")}</div></div>')
    return Section("pca", "Comparison with PCA", body)
