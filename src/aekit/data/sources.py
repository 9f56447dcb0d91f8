"""Sources: where training and inference read their rows from, one protocol for every kind of input.

A source is a list of **units** (row blocks of an array, row groups of Parquet files) that it reads as
float32 chunks ``(rows, *sample_shape)``, never whole. Units are what streams shuffle and shard: every
epoch draws a fresh order of the units from ``(seed, epoch)``, and rank ``r`` of ``world_size`` takes every
``world_size``-th unit of that order (``DistributedSampler``'s rule at the granularity of units). Held-out
validation is a subset of the units (``split``), never a copy of the data.

- :class:`ArraySource`: an array in memory (``fit`` trains on arrays through the loop's faster tensor path;
  this source serves the statistics, inference and tests).
- :class:`NpySource`: a ``.npy`` file, memory-mapped.
- :class:`ParquetSource`: a Parquet file or a folder of them (``pyarrow.dataset``), columns selectable.
- :class:`IterableSource`: any iterable of arrays, or a function returning a fresh iterator per epoch.
"""
from __future__ import annotations

import copy
import hashlib
import itertools
from pathlib import Path
from typing import Iterator, Optional, Sequence

import numpy as np

from ..exceptions import DataError

#: rows per unit of an array: about 32 MB of a 64-feature float32 table
ARRAY_UNIT_BYTES = 32 * 2 ** 20
#: rows per chunk read from a Parquet row group
PARQUET_CHUNK_ROWS = 65536


class Source:
    """The protocol. Subclasses set ``sample_shape`` and ``feature_names`` and implement ``_all_units``,
    ``unit_rows`` and ``read``; the rest (subsets, epochs, sharding) is shared."""

    sample_shape: tuple = ()
    feature_names: Optional[list] = None
    image_shape: Optional[tuple] = None
    _selected: Optional[list] = None

    def _all_units(self) -> list:
        raise NotImplementedError

    def unit_rows(self, unit) -> Optional[int]:
        raise NotImplementedError

    def read(self, unit) -> Iterator[np.ndarray]:
        """The unit's rows as float32 chunks of shape ``(rows, *sample_shape)``, which the caller owns (never a
        view of the user's data: streams scale them in place)."""
        raise NotImplementedError

    def fingerprint(self) -> Optional[dict]:
        """What identifies the data: shape, dtype, files and sizes, hashes of the first and last bytes."""
        return None

    # -- shared ----------------------------------------------------------------------------------
    def units(self) -> list:
        return list(self._all_units()) if self._selected is None else list(self._selected)

    @property
    def n_rows(self) -> Optional[int]:
        rows = [self.unit_rows(u) for u in self.units()]
        return None if any(r is None for r in rows) else int(sum(rows))

    def select(self, units: Sequence) -> "Source":
        """The same data restricted to ``units`` (a view: nothing is read or copied)."""
        view = copy.copy(self)
        view._selected = list(units)
        return view

    def chunks(self) -> Iterator[np.ndarray]:
        """Every row, in order, chunk by chunk."""
        for unit in self.units():
            yield from self.read(unit)

    def epoch_units(self, epoch: int, seed: int, shuffle: bool = True, rank: int = 0, world_size: int = 1) -> list:
        """This rank's units for ``epoch``: the same seeded order on every rank, every ``world_size``-th unit."""
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, world_size), got rank={rank}, world_size={world_size}")
        units = self.units()
        if shuffle:
            order = np.random.default_rng([int(seed), int(epoch)]).permutation(len(units))
            units = [units[i] for i in order]
        return units[rank::world_size]

    def split(self, fraction: float, seed: int) -> tuple["Source", Optional["Source"]]:
        """``(train, validation)``: a seeded ``fraction`` of the units held out (at least one, when there are
        two or more units); ``(self, None)`` when nothing can be held out."""
        if not 0.0 <= float(fraction) < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), got {fraction!r}")
        units = self.units()
        n_val = min(len(units) - 1, max(1, int(round(fraction * len(units))))) if fraction > 0 else 0
        if n_val <= 0:
            return self, None
        order = np.random.default_rng(int(seed)).permutation(len(units))
        held = set(order[:n_val].tolist())
        return (self.select([u for i, u in enumerate(units) if i not in held]),
                self.select([u for i, u in enumerate(units) if i in held]))


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def _file_digest(path: Path, size: int, nbytes: int = 2 ** 20) -> str:
    """Hash of a file's first and last ``nbytes``."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read(nbytes))
        f.seek(max(0, size - nbytes))
        h.update(f.read(nbytes))
    return h.hexdigest()[:16]


class ArraySource(Source):
    """Rows of an array already in memory, in units of about 32 MB."""

    def __init__(self, X: np.ndarray, unit_rows: Optional[int] = None, feature_names=None):
        self.X = X
        self.sample_shape = tuple(X.shape[1:])
        self.feature_names = feature_names
        row_bytes = max(1, int(np.prod(self.sample_shape)) * 4)
        self.rows_per_unit = int(unit_rows or max(1, ARRAY_UNIT_BYTES // row_bytes))

    def _all_units(self) -> list:
        return list(range(-(-len(self.X) // self.rows_per_unit)))

    def unit_rows(self, unit) -> int:
        lo = unit * self.rows_per_unit
        return min(len(self.X), lo + self.rows_per_unit) - lo

    def read(self, unit):
        lo = unit * self.rows_per_unit
        yield np.array(self.X[lo:lo + self.rows_per_unit], dtype=np.float32)  # a copy: the caller's to modify

    def fingerprint(self) -> dict:
        k = min(len(self.X), 1024)
        return {"kind": "array", "shape": list(self.X.shape), "dtype": str(self.X.dtype),
                "first": _digest(self.X[:k]), "last": _digest(self.X[len(self.X) - k:])}


class NpySource(ArraySource):
    """A ``.npy`` file read through a memory map (never whole): 2-D tables, or image stacks flattened
    per sample (uint8 pixels scaled to [0, 1], as ``read_table`` does)."""

    def __init__(self, path, unit_rows: Optional[int] = None):
        self.path = Path(path).expanduser()
        try:
            arr = np.load(self.path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as e:
            raise DataError(f"could not memory-map {str(self.path)!r} as a numeric .npy array: {e}") from e
        if arr.dtype.kind not in "fiub" or arr.ndim not in (2, 3, 4) or len(arr) == 0:
            raise DataError(f"{str(self.path)!r} holds a {arr.dtype} array of shape {arr.shape}; expected a "
                            "non-empty numeric (n_samples, n_features) or (n_samples, height, width[, channels])")
        self.image_shape = tuple(arr.shape[1:]) if arr.ndim > 2 else None
        self._scale = 1 / 255.0 if arr.dtype == np.uint8 and arr.ndim > 2 else None
        super().__init__(arr.reshape(len(arr), -1), unit_rows)

    def read(self, unit):
        for chunk in super().read(unit):
            yield np.multiply(chunk, np.float32(self._scale), out=chunk) if self._scale else chunk

    def fingerprint(self) -> dict:
        size = self.path.stat().st_size
        return {**super().fingerprint(), "kind": "npy", "file": self.path.name, "size": size}


class IterableSource(Source):
    """Any iterable of arrays ``(rows, *sample_shape)``; or a function returning a fresh iterator, which
    streams call once per epoch. One unit: it can be shuffled by the buffer only, and not split or sharded."""

    def __init__(self, iterable):
        self.iterable = iterable
        self._once = not callable(iterable) and iter(iterable) is iterable  # an iterator: one pass only
        self._peeked = None
        first = next(self._iterate(), None)
        if first is None:
            raise DataError("the iterable source gave no arrays; expected arrays of shape (rows, n_features)")
        if self._once:
            self._peeked = first  # the iterator gave it up: hand it out again on the first read
        self.sample_shape = tuple(first.shape[1:])
        self._used = False

    def _iterate(self):
        it = self.iterable() if callable(self.iterable) else iter(self.iterable)
        for chunk in it:
            arr = np.array(chunk, dtype=np.float32)  # a copy: the caller's to modify
            if arr.ndim < 2:
                raise DataError(f"the iterable source gave an array of shape {arr.shape}; expected "
                                "(rows, n_features) chunks")
            yield arr

    def _all_units(self) -> list:
        return [0]

    def unit_rows(self, unit) -> None:
        return None

    def read(self, unit):
        if self._once and self._used:
            raise DataError("the iterable source is an iterator, which can be read only once; pass a function "
                            "that returns a new iterator (lambda: my_generator()) to train more than one epoch")
        self._used = True
        chunks = self._iterate()
        if self._peeked is not None:
            first, self._peeked = self._peeked, None
            chunks = itertools.chain([first], chunks)
        for arr in chunks:
            if tuple(arr.shape[1:]) != self.sample_shape:
                raise DataError(f"the iterable source gave chunks of shape {arr.shape[1:]} after "
                                f"{self.sample_shape}; every chunk needs the same number of features")
            yield arr

    def split(self, fraction: float, seed: int):
        if fraction:
            raise DataError("an iterable source cannot hold out a validation fraction; give validation_data")
        return self, None


def open_source(X, columns: Optional[Sequence[str]] = None) -> Source:
    """A :class:`Source` for a source, a path (``.npy``, ``.parquet`` file or folder) or an iterable."""
    if isinstance(X, Source):
        return X
    if isinstance(X, (str, Path)):
        path = Path(X).expanduser()
        if path.is_dir() or path.suffix.lower() == ".parquet":
            from .parquet import ParquetSource

            return ParquetSource(path, columns=columns)
        if path.suffix.lower() == ".npy":
            return NpySource(path)
        raise DataError(f"cannot stream {str(path)!r}: give a .npy file, a .parquet file or a folder of them")
    if callable(X) or (hasattr(X, "__iter__") and not hasattr(X, "shape") and not isinstance(X, (list, tuple))):
        return IterableSource(X)
    raise TypeError(f"expected a Source, a path or an iterable of arrays, got {type(X).__name__}")


def is_streamable(X) -> bool:
    """Whether ``fit`` and friends read ``X`` as a stream (a path, a source, a generator) rather than an array."""
    if isinstance(X, (Source, str, Path)):
        return True
    return callable(X) or (hasattr(X, "__next__") and not hasattr(X, "shape"))
