import numpy as np
import pytest

from aekit import AutoEncoder
from aekit.applications import compare_with_pca
from aekit.applications.reduction import format_table


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 10)) * 4
    y = np.repeat(np.arange(3), 40)
    X = (centers[y] + rng.normal(size=(120, 10))).astype(np.float32)
    return X, y


@pytest.fixture(scope="module")
def fitted(blobs):
    return AutoEncoder(latent_dim=2, hidden=(16,), epochs=30, batch_size=32, random_state=0).fit(blobs[0])


def test_rows_have_the_documented_keys(fitted, blobs):
    X, y = blobs
    rows = compare_with_pca(fitted, X, y, n_neighbors=5)
    assert [r["method"] for r in rows] == ["autoencoder", "pca"]
    for row in rows:
        assert set(row) == {"method", "dim", "reconstruction_mse", "trustworthiness", "knn_accuracy"}
        assert row["dim"] == 2
        assert row["reconstruction_mse"] >= 0
        assert 0.0 <= row["trustworthiness"] <= 1.0
        assert 0.0 <= row["knn_accuracy"] <= 1.0
    # three well separated blobs: PCA's 2-D projection separates them
    assert rows[1]["knn_accuracy"] > 0.9


def test_pca_row_matches_sklearn(fitted, blobs):
    from sklearn.decomposition import PCA

    X, _ = blobs
    pca = PCA(2).fit(X)
    expected = np.mean((pca.inverse_transform(pca.transform(X)) - X) ** 2)
    row = compare_with_pca(fitted, X)[1]
    assert row["reconstruction_mse"] == pytest.approx(expected, rel=1e-4)
    assert row["knn_accuracy"] is None


def test_subset_and_table(fitted, blobs):
    X, y = blobs
    rows = compare_with_pca(fitted, X, y, max_samples=60, X_fit=X)
    text = format_table(rows)
    assert text.splitlines()[0].split() == ["method", "dim", "reconstruction_mse", "trustworthiness", "knn_accuracy"]
    assert "autoencoder" in text and "pca" in text


def test_bad_labels(fitted, blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match=r"y has shape \(3,\), but X has 120 samples"):
        compare_with_pca(fitted, X, y=[0, 1, 2])
