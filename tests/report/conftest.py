"""A tiny fitted model and its report, shared by the report tests (seeded, a few seconds in all)."""
import numpy as np
import pytest

from aekit import AutoEncoder


@pytest.fixture(scope="session")
def tiny(small_digits):
    """200 digits and a 2-epoch dense autoencoder with a 2-D code."""
    X, y = small_digits
    est = AutoEncoder(latent_dim=2, hidden=(16,), epochs=2, batch_size=64, random_state=0).fit(X)
    return est, X, y


@pytest.fixture(scope="session")
def tiny_table():
    """A 6-column table with named columns and a 3-D code (so the explorer shows a PCA projection)."""
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(120, 6)) * [1, 2, 3, 4, 5, 6]).astype(np.float32)
    est = AutoEncoder(latent_dim=3, hidden=(8,), epochs=2, batch_size=32, random_state=0).fit(X)
    return est, X, [f"col {i}" for i in range(6)]


@pytest.fixture(scope="session")
def tiny_report(tiny, tmp_path_factory):
    """The tiny model's report, with a decoded grid so that click-to-decode can be tried."""
    from aekit.report import build_report, write_report

    est, X, y = tiny
    html = build_report(est, X, y, image_shape=(8, 8), target_names=[str(i) for i in range(10)],
                        dataset_name="digits", X_train=X, decode_grid=True)
    return write_report(tmp_path_factory.mktemp("report") / "report.html", html)
