"""Tests for aekit.data.datasets. MNIST comes from ../shared/data/mnist beside the repository;
the network is never used (the downloader is replaced in every test that could reach it)."""
import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from aekit.data import datasets
from aekit.data.datasets import (
    IDX_FILES,
    Dataset,
    load_dataset,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    make_correlated_sequences,
)
from aekit.exceptions import DataError

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
MNIST_DIR = SHARED / "mnist"
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
needs_mnist = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"MNIST files not found in {MNIST_DIR}")

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def offline(url, timeout=None):
    raise OSError("network disabled in tests")


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No network, no user cache, no AEKIT_DATA from the environment."""
    monkeypatch.setattr(datasets, "_fetch_url", offline)
    monkeypatch.setenv("AEKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("AEKIT_DATA", raising=False)


@pytest.fixture(scope="module")
def mnist():
    if not MNIST_DIR.is_dir():
        pytest.skip(f"MNIST files not found in {MNIST_DIR}")
    with pytest.MonkeyPatch.context() as mp:  # module scope: the autouse fixture is not active yet
        mp.setattr(datasets, "_fetch_url", offline)
        return load_dataset("mnist", data_dir=SHARED)  # the parent-of-mnist/ form of data_dir


# --------------------------------------------------------------------------------------------- MNIST
def test_mnist_shapes_range_and_labels(mnist):
    assert mnist.X.shape == (60000, 784) and mnist.X_test.shape == (10000, 784)
    assert mnist.X.dtype == np.float32 and mnist.X_test.dtype == np.float32
    assert mnist.X.min() == 0.0 and mnist.X.max() == 1.0
    assert np.bincount(mnist.y).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(mnist.y_test).tolist() == MNIST_TEST_COUNTS
    assert mnist.image_shape == (28, 28) and mnist.images().shape == (60000, 28, 28)
    assert mnist.target_names == [str(d) for d in range(10)]


@needs_mnist
@pytest.mark.parametrize("form", ["folder", "parent"])
def test_mnist_honours_aekit_data(monkeypatch, tmp_path, form):
    if form == "parent":
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "mnist").symlink_to(MNIST_DIR)
    monkeypatch.setenv("AEKIT_DATA", str(MNIST_DIR if form == "folder" else tmp_path / "data"))
    ds = load_mnist()
    assert ds.X.shape == (60000, 784) and ds.y_test.shape == (10000,)


@needs_mnist
def test_mnist_corrupted_file_fails_checksum(tmp_path):
    for name in IDX_FILES:
        shutil.copy(MNIST_DIR / name, tmp_path / name)
    damaged = tmp_path / "train-labels-idx1-ubyte.gz"
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    expected = "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
    with pytest.raises(DataError, match=rf"checksum mismatch for '.*train-labels-idx1-ubyte.gz': "
                                        rf"sha256 is [0-9a-f]{{64}}, expected {expected}"):
        load_mnist(data_dir=tmp_path)


def test_mnist_missing_files_say_where_to_put_them(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match=r"MNIST files not found, and downloading them failed") as info:
        load_mnist(data_dir=empty)
    message = str(info.value)
    assert "network disabled in tests" in message
    assert str(empty) in message and str(tmp_path / "cache" / "mnist") in message
    assert f"Put the four files {', '.join(IDX_FILES)} in {tmp_path / 'cache' / 'mnist'}" in message
    assert "AEKIT_DATA" in message


def test_fashion_missing_files_mention_debian_package(tmp_path, monkeypatch):
    # the Debian folder may exist on this machine: point the search at an empty one instead
    spec = dataclasses.replace(datasets._FASHION, system_dirs=(str(tmp_path / "none"),))
    monkeypatch.setattr(datasets, "_FASHION", spec)
    with pytest.raises(DataError, match=r"Fashion-MNIST files not found.*apt-get install dataset-fashion-mnist"):
        load_fashion_mnist(data_dir=tmp_path)


@needs_mnist
def test_mnist_download_goes_to_the_cache_atomically(monkeypatch, tmp_path):
    fetched = []

    def fake_fetch(url, timeout=None):
        fetched.append(url)
        return (MNIST_DIR / url.rsplit("/", 1)[1]).read_bytes()

    monkeypatch.setattr(datasets, "_fetch_url", fake_fetch)
    ds = load_mnist()
    cache = tmp_path / "cache" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(IDX_FILES)  # no .part files left
    assert len(fetched) == 4 and ds.X.shape == (60000, 784)


def test_download_with_wrong_bytes_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets, "_fetch_url", lambda url, timeout=None: b"<html>moved</html>")
    with pytest.raises(DataError, match=r"sha256 is [0-9a-f]{64}, expected 440fcabf"):
        load_mnist()
    assert not any((tmp_path / "cache" / "mnist").glob("*"))


# ------------------------------------------------------------------------------------- Fashion-MNIST
@pytest.mark.skipif(not FASHION_DIR.is_dir(),
                    reason=f"{FASHION_DIR} not found: apt-get install dataset-fashion-mnist")
def test_fashion_mnist_from_debian_package():
    ds = load_fashion_mnist()
    assert ds.X.shape == (60000, 784) and ds.X_test.shape == (10000, 784)
    assert ds.X.dtype == np.float32 and 0.0 <= ds.X.min() and ds.X.max() <= 1.0
    assert np.bincount(ds.y).tolist() == [6000] * 10
    assert np.bincount(ds.y_test).tolist() == [1000] * 10
    assert ds.target_names[0] == "T-shirt/top" and ds.target_names[9] == "Ankle boot"


# --------------------------------------------------------------------------------------------- digits
def test_digits():
    ds = load_digits()
    assert ds.X.shape == (1797, 64) and ds.X.dtype == np.float32
    assert ds.X.min() == 0.0 and ds.X.max() == 1.0
    assert ds.images().shape == (1797, 8, 8) and ds.X_test is None
    assert np.array_equal(np.unique(ds.y), np.arange(10))


def test_images_of_a_table_is_an_error():
    with pytest.raises(ValueError, match="is a table, not images"):
        Dataset(name="t", X=np.ones((2, 3), np.float32)).images()


# ------------------------------------------------------------------------------------------ sequences
def test_sequences_shape_and_correlation_signs():
    X = make_correlated_sequences(n=200, random_state=1)
    assert X.shape == (200, 5) and X.dtype == np.float64
    corr = np.corrcoef(X.T)
    signs = np.sign(corr)
    expected = np.array([1, -1, 1, -1, 1])
    np.testing.assert_array_equal(signs, np.outer(expected, expected))
    assert np.abs(corr).min() > 0.99


def test_sequences_are_reproducible():
    a = make_correlated_sequences(random_state=3)
    np.testing.assert_array_equal(a, make_correlated_sequences(random_state=3))
    assert not np.array_equal(a, make_correlated_sequences(random_state=4))
    rng_a, rng_b = np.random.default_rng(7), np.random.default_rng(7)
    np.testing.assert_array_equal(make_correlated_sequences(random_state=rng_a),
                                  make_correlated_sequences(random_state=rng_b))


def test_sequences_noise_bounds():
    X = make_correlated_sequences(n=11, noise=0.0)
    np.testing.assert_array_equal(X[:, 0], np.linspace(0, 100, 11))
    np.testing.assert_array_equal(X[:, 1], np.linspace(100, 0, 11))
    assert np.abs(make_correlated_sequences(n=500, noise=2.0, random_state=0)[:, 2]
                  - np.linspace(0, 100, 500)).max() <= 2.0


@pytest.mark.parametrize("kwargs, message", [({"n": 0}, "n=0"), ({"noise": -1.0}, "noise=-1.0")])
def test_sequences_bad_arguments(kwargs, message):
    with pytest.raises(DataError, match=message):
        make_correlated_sequences(**kwargs)


# -------------------------------------------------------------------------------------- load_dataset
def test_load_dataset_sequences():
    ds = load_dataset("sequences")
    assert ds.X.shape == (100, 5) and ds.X.dtype == np.float32
    assert ds.feature_names == ["seq_1", "seq_2", "seq_3", "seq_4", "seq_5"]
    np.testing.assert_array_equal(ds.X, load_dataset("sequences").X)


def test_load_dataset_names_and_files(tmp_path):
    assert load_dataset("digits").name == "digits"
    (tmp_path / "pts.csv").write_text("a,b\n1,2\n")
    ds = load_dataset(tmp_path / "pts.csv")
    assert ds.name == "pts" and ds.feature_names == ["a", "b"]


def test_load_dataset_image_folder(tmp_path):
    from aekit.data.images import write_images

    write_images(tmp_path, np.zeros((3, 4, 5)))
    ds = load_dataset(tmp_path)
    assert ds.X.shape == (3, 20) and ds.image_shape == (4, 5)


def test_load_dataset_unknown_name():
    with pytest.raises(DataError, match=(
            r"^no dataset or file named 'x'; built-in datasets: digits, mnist, fashion-mnist, sequences; "
            r"or give a path to a \.csv, \.npy, \.npz or \.parquet file$")):
        load_dataset("x")


def test_no_download_when_switched_off(tmp_path):
    with pytest.raises(DataError, match=r"MNIST files not found, and download=False\. Searched: "):
        load_mnist(data_dir=tmp_path, download=False)
