"""The report's plot functions: data in, an Axes out, nothing written."""
import matplotlib
import numpy as np
import pytest

from aekit import plots

matplotlib.use("Agg")


def test_loss_terms_plots_each_term_and_its_validation():
    history = {"loss": [3.0, 2.0], "val_loss": [3.5, 2.5], "reconstruction": [2.5, 1.8], "kl": [0.5, 0.2],
               "val_reconstruction": [3.0, 2.2], "val_kl": [0.5, 0.3], "seconds": [1.0, 1.0]}
    ax = plots.plot_loss_terms(history)
    assert sorted(line.get_label() for line in ax.get_lines()) == ["kl", "reconstruction", "val_kl",
                                                                   "val_reconstruction"]


def test_loss_terms_uses_a_log_scale_for_terms_far_apart():
    ax = plots.plot_loss_terms({"loss": [1.0, 1.0], "reconstruction": [100.0, 90.0], "kl": [0.1, 0.2]})
    assert ax.get_yscale() == "log"


def test_error_histogram_draws_the_threshold():
    errors = np.arange(100, dtype=float)
    ax = plots.plot_error_histogram(errors, threshold=89.5)
    (line,) = ax.get_lines()
    assert line.get_xdata()[0] == 89.5
    assert "10.0% above" in line.get_label()
    assert not plots.plot_error_histogram(errors).get_lines()  # no detector, no line


def test_worst_reconstructions_orders_by_error():
    X = np.random.default_rng(0).random((6, 4), dtype=np.float32)
    errors = np.array([0.1, 0.9, 0.3, 0.5, 0.2, 0.7])
    ax = plots.plot_worst_reconstructions(X, X, errors, image_shape=(2, 2), n=3)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.9", "0.7", "0.5"]
    ax = plots.plot_worst_reconstructions(X, X, errors, n=2, feature_names=list("abcd"))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["#1 error 0.9", "#5 error 0.7"]


def test_pca_comparison_skips_missing_values():
    rows = [{"method": "autoencoder", "dim": 2, "reconstruction_mse": 0.2, "knn_accuracy": None},
            {"method": "pca", "dim": 2, "reconstruction_mse": 0.3, "knn_accuracy": 0.8}]
    ax = plots.plot_pca_comparison(rows)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["autoencoder (2-D)", "pca (2-D)"]
    ax = plots.plot_pca_comparison(rows, metric="knn_accuracy")
    assert len(ax.patches) == 1


@pytest.mark.parametrize("fn", [plots.plot_loss_terms, plots.plot_error_histogram])
def test_draws_on_a_given_axes(fn):
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    arg = {"loss": [1.0], "reconstruction": [1.0]} if fn is plots.plot_loss_terms else np.ones(5)
    assert fn(arg, ax=ax) is ax
