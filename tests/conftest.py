"""Shared fixtures. Real MNIST comes from ../shared/data beside the repository (as in CI)."""
import os
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

if (SHARED_DATA / "mnist").is_dir():
    os.environ.setdefault("AEKIT_DATA", str(SHARED_DATA))


@pytest.fixture
def one_thread():
    """Tiny models train faster on one thread, and test machines' cores are often shared."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def digits():
    """The 8x8 digits, float32 in [0, 1], and their labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.data / 16).astype(np.float32), d.target


@pytest.fixture(scope="session")
def small_digits(digits):
    X, y = digits
    return X[:200], y[:200]


@pytest.fixture
def mnist_dir():
    path = SHARED_DATA / "mnist"
    if not path.is_dir():
        pytest.skip(f"real MNIST not found at {path}")
    return path
