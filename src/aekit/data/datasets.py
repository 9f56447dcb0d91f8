"""Built-in datasets (digits, MNIST, Fashion-MNIST, the tutorial's sequences) and :func:`load_dataset`.

MNIST and Fashion-MNIST are read from local IDX files, looked for in this order: the ``data_dir``
argument, ``$AEKIT_DATA``, the Debian package's folder (Fashion-MNIST only), and the cache
``~/.cache/aekit/<name>/`` (``$AEKIT_CACHE`` overrides ``~/.cache/aekit``). When none holds the four files
they are downloaded into the cache. Every file is checked against its published checksum.
"""
from __future__ import annotations

import gzip
import hashlib
import logging
import os
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._atomic import atomic_path
from ..exceptions import DataError
from .dataset import Dataset
from .idx import decode_idx
from .images import read_images
from .io import read_table
from .sequences import make_correlated_sequences

__all__ = [
    "BUILTIN_DATASETS",
    "Dataset",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "make_correlated_sequences",
]

logger = logging.getLogger(__name__)

BUILTIN_DATASETS = ("digits", "mnist", "fashion-mnist", "sequences")
DOWNLOAD_TIMEOUT_S = 10.0


def load_digits() -> Dataset:
    """scikit-learn's 8x8 handwritten digits: 1797 images, pixel values scaled from 0..16 to [0, 1].

    Examples
    --------
    >>> ds = load_digits()
    >>> ds.X.shape, float(ds.X.max())
    ((1797, 64), 1.0)
    """
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    return Dataset(name="digits", X=(bunch.data / 16.0).astype(np.float32), y=bunch.target.astype(np.int64),
                   image_shape=(8, 8), target_names=[str(t) for t in bunch.target_names])


# ----------------------------------------------------------------------------------- MNIST-like sets
IDX_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


@dataclass(frozen=True)
class _IdxSpec:
    name: str  # folder name under $AEKIT_DATA and the cache
    title: str
    algorithm: str  # hashlib name
    of_gz: bool  # digest of the .gz bytes (True) or of the decompressed bytes (False)
    digests: tuple  # one per IDX_FILES entry
    mirrors: tuple
    system_dirs: tuple
    target_names: tuple


_MNIST = _IdxSpec(
    "mnist", "MNIST", "sha256", True,
    ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
     "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
     "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
     "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
    ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    (), tuple(str(d) for d in range(10)),
)
# Debian recompressed the .gz files, so only the decompressed bytes match the official checksums.
_FASHION = _IdxSpec(
    "fashion-mnist", "Fashion-MNIST", "md5", False,
    ("f4a8712d7a061bf5bd6d2ca38dc4d50a", "9018921c3c673c538a1fc5bad174d6f9",
     "8181f5470baa50b63fa0f6fddb340f0a", "15d484375f8d13e6eb1aabb0c3f46965"),
    ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    ("/usr/share/datasets/fashion-mnist",),
    ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
)


def load_mnist(data_dir=None, download: bool = True) -> Dataset:
    """The MNIST digits: 60000 training and 10000 test images of 28x28, pixel values in [0, 1].

    Parameters
    ----------
    data_dir : str or Path, optional
        A folder holding the four IDX ``.gz`` files, or a parent holding ``mnist/``. Searched first.
    download : bool, default True
        Download the files into the cache when no folder holds them.

    Examples
    --------
    >>> ds = load_mnist()  # doctest: +SKIP
    >>> ds.X.shape, ds.X_test.shape, ds.images().shape  # doctest: +SKIP
    ((60000, 784), (10000, 784), (60000, 28, 28))
    """
    return _load_idx_set(_MNIST, data_dir, download)


def load_fashion_mnist(data_dir=None, download: bool = True) -> Dataset:
    """Zalando's Fashion-MNIST: 60000 + 10000 clothing images of 28x28, pixel values in [0, 1].

    Searched like :func:`load_mnist` (with ``fashion-mnist/`` as the folder name), plus
    ``/usr/share/datasets/fashion-mnist`` from the Debian package ``dataset-fashion-mnist``.
    """
    return _load_idx_set(_FASHION, data_dir, download)


def _cache_dir(spec: _IdxSpec) -> Path:
    root = os.environ.get("AEKIT_CACHE") or Path.home() / ".cache" / "aekit"
    return Path(root).expanduser() / spec.name


def _candidate_dirs(spec: _IdxSpec, data_dir) -> list[Path]:
    dirs = []
    for base in (data_dir, os.environ.get("AEKIT_DATA") or None):
        if base is not None:  # the folder itself, or a parent holding <name>/
            dirs += [Path(base).expanduser(), Path(base).expanduser() / spec.name]
    return dirs + [Path(d) for d in spec.system_dirs] + [_cache_dir(spec)]


def _load_idx_set(spec: _IdxSpec, data_dir, download: bool) -> Dataset:
    searched = _candidate_dirs(spec, data_dir)
    folder = next((d for d in searched if all((d / f).is_file() for f in IDX_FILES)), None)
    if folder is None:
        folder = _download_set(spec, searched, download)
    logger.info("reading %s from %s", spec.title, folder)
    X, y, X_test, y_test = (_read_checked(folder / f, spec, digest) for f, digest in zip(IDX_FILES, spec.digests))
    for images, labels, split in ((X, y, "train"), (X_test, y_test, "t10k")):
        if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
            raise DataError(f"{folder}: {split}-images holds {images.shape} but {split}-labels holds "
                            f"{labels.shape[0]} labels; expected (n, 28, 28) images and n labels: replace the files")
    return Dataset(name=spec.name, X=_pixels(X), y=y.astype(np.int64), X_test=_pixels(X_test),
                   y_test=y_test.astype(np.int64), image_shape=(28, 28), target_names=list(spec.target_names))


def _pixels(images: np.ndarray) -> np.ndarray:
    X = images.reshape(images.shape[0], -1).astype(np.float32)  # (n, 784)
    X /= 255.0
    return X


def _digest(spec: _IdxSpec, data: bytes) -> str:
    return hashlib.new(spec.algorithm, data, usedforsecurity=False).hexdigest()


def _check(path: Path, spec: _IdxSpec, data: bytes, expected: str) -> None:
    actual = _digest(spec, data)
    if actual != expected:
        what = spec.algorithm + ("" if spec.of_gz else " of the decompressed bytes")
        raise DataError(f"checksum mismatch for {str(path)!r}: {what} is {actual}, expected {expected}; the file is "
                        f"damaged or not the official one: delete it and put a fresh copy there")


def _read_checked(path: Path, spec: _IdxSpec, expected: str) -> np.ndarray:
    raw = path.read_bytes()
    if spec.of_gz:
        _check(path, spec, raw, expected)
    try:
        data = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{str(path)!r} is not a readable gzip file ({e}); delete it and put a fresh copy there") from e
    if not spec.of_gz:
        _check(path, spec, data, expected)
    magic = 0x803 if "images" in path.name else 0x801  # 3-D unsigned bytes / 1-D unsigned bytes
    return decode_idx(data, repr(str(path)), magic)


# ------------------------------------------------------------------------------------------ download
def _fetch_url(url: str, timeout: float = DOWNLOAD_TIMEOUT_S) -> bytes:
    """The bytes at ``url``. Module-level so that tests (and offline setups) can replace it."""
    logger.info("downloading %s", url)
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:  # readers see the whole file or none
        Path(tmp).write_bytes(data)


def _fetch_checked(spec: _IdxSpec, name: str, expected: str) -> bytes:
    errors = []
    for mirror in spec.mirrors:
        try:
            data = _fetch_url(mirror + name)
            raw = data if spec.of_gz else gzip.decompress(data)
        except Exception as e:  # network, HTTP and gzip errors all mean: try the next mirror
            errors.append(f"{mirror + name}: {type(e).__name__}: {e}")
            continue
        if _digest(spec, raw) == expected:
            return data
        errors.append(f"{mirror + name}: {spec.algorithm} is {_digest(spec, raw)}, expected {expected}")
    raise OSError("; ".join(errors))


def _download_set(spec: _IdxSpec, searched: list, download: bool) -> Path:
    cache = _cache_dir(spec)
    if not download:
        raise DataError(_not_found_message(spec, searched, "and download=False"))
    try:
        for name, expected in zip(IDX_FILES, spec.digests):
            if not (cache / name).is_file():
                _write_atomic(cache / name, _fetch_checked(spec, name, expected))
        return cache
    except OSError as e:
        raise DataError(_not_found_message(spec, searched, f"and downloading them failed ({e})")) from e


def _not_found_message(spec: _IdxSpec, searched: list, why: str) -> str:
    unique = list(dict.fromkeys(str(d) for d in searched))
    apt = " or install the Debian package: apt-get install dataset-fashion-mnist;" if spec.system_dirs else ""
    return (f"{spec.title} files not found, {why}. Searched: {', '.join(unique)}. "
            f"Put the four files {', '.join(IDX_FILES)} in {_cache_dir(spec)}, or in a folder that you pass as "
            f"data_dir or set as AEKIT_DATA (or its {spec.name}/ subfolder);{apt} the files are on "
            f"{spec.mirrors[0]}")


def _load_sequences(data_dir=None) -> Dataset:
    X = make_correlated_sequences(random_state=0).astype(np.float32)
    return Dataset(name="sequences", X=X, feature_names=[f"seq_{i}" for i in range(1, 6)])


_LOADERS = {
    "digits": lambda data_dir: load_digits(),
    "mnist": load_mnist,
    "fashion-mnist": load_fashion_mnist,
    "sequences": _load_sequences,
}


def load_dataset(name_or_path, data_dir=None) -> Dataset:
    """A built-in dataset by name, or a file read with :func:`aekit.data.io.read_table`.

    Parameters
    ----------
    name_or_path : str or Path
        One of ``digits``, ``mnist``, ``fashion-mnist``, ``sequences`` (these names win over files of the
        same name: write ``./mnist`` for a folder called ``mnist``); or a ``.csv``, ``.npy``, ``.npz`` or
        ``.parquet`` file; or a folder of same-sized PNG images.
    data_dir : str or Path, optional
        Where to look first for the MNIST / Fashion-MNIST files.

    Examples
    --------
    >>> load_dataset("sequences").feature_names
    ['seq_1', 'seq_2', 'seq_3', 'seq_4', 'seq_5']
    """
    key = str(name_or_path).strip().lower().replace("_", "-")
    if key in _LOADERS:  # names win over files of the same name: read those as ./name
        return _LOADERS[key](data_dir=data_dir)
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        images = read_images(path)  # (n, height, width)
        return Dataset(name=path.name, X=images.reshape(len(images), -1), image_shape=images.shape[1:])
    if path.is_file():
        return read_table(path)
    raise DataError(f"no dataset or file named {str(name_or_path)!r}; built-in datasets: "
                    f"{', '.join(BUILTIN_DATASETS)}; or give a path to a .csv, .npy, .npz or .parquet file")
