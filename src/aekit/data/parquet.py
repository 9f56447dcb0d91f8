"""A Parquet file or a folder of Parquet files as a :class:`~aekit.data.sources.Source`.

The units are the row groups of the files (``pyarrow.dataset`` lists the files; each row group is read
in record batches of ``PARQUET_CHUNK_ROWS`` rows), so memory holds a few batches, never a file. Columns are
checked once from the schema: non-numeric and nested columns are refused by name, as ``read_table`` does.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..exceptions import DataError
from .sources import PARQUET_CHUNK_ROWS, Source, _file_digest


def _pyarrow():
    try:
        import pyarrow.dataset as ds
        import pyarrow.parquet as pq
        import pyarrow.types as pat
    except ImportError as e:
        raise DataError("reading .parquet needs pyarrow: pip install 'aekit[parquet]'") from e
    return ds, pq, pat


class ParquetSource(Source):
    """Rows of a Parquet file or folder (all ``*.parquet`` files below it, in sorted order).

    Parameters
    ----------
    path : str or Path
    columns : sequence of str, optional
        The columns to read (default: all); each must be numeric (integers, floats, booleans).
    chunk_rows : int
        Rows per record batch read.
    """

    def __init__(self, path, columns: Optional[Sequence[str]] = None, chunk_rows: int = PARQUET_CHUNK_ROWS):
        ds, pq, pat = _pyarrow()
        self.path = Path(path).expanduser()
        if not self.path.exists():
            raise DataError(f"no such file or folder: {str(self.path)!r}")
        try:
            dataset = ds.dataset(str(self.path), format="parquet")
            self.files = sorted(dataset.files)
        except Exception as e:  # pyarrow's own error family for foreign files
            raise DataError(f"could not read {str(self.path)!r} as Parquet: {e}") from e
        if not self.files:
            raise DataError(f"{str(self.path)!r} holds no Parquet files; expected *.parquet files")
        schema = dataset.schema
        names = list(columns) if columns is not None else [n for n in schema.names if n not in _partition_names(dataset)]
        missing = [n for n in names if n not in schema.names]
        if missing:
            raise DataError(f"column {missing[0]!r} is not in {str(self.path)!r}; its columns: {', '.join(schema.names)}")
        for name in names:
            kind = schema.field(name).type
            if not (pat.is_integer(kind) or pat.is_floating(kind) or pat.is_boolean(kind)):
                what = "nested" if pat.is_nested(kind) else "non-numeric"
                raise DataError(f"column {name!r} holds {kind} values ({what}); aekit takes numeric columns only: "
                                "drop or encode it, or choose columns=")
        if not names:
            raise DataError(f"{str(self.path)!r} has no columns to read")
        self.columns, self.feature_names = names, names
        self.sample_shape = (len(names),)
        self.chunk_rows = int(chunk_rows)
        self._groups = []  # (file index, row group, rows)
        for f, file in enumerate(self.files):
            meta = pq.ParquetFile(file).metadata
            self._groups += [(f, g, meta.row_group(g).num_rows) for g in range(meta.num_row_groups)]
        self._open: dict = {}

    def __getstate__(self):  # open file handles stay behind
        return {**self.__dict__, "_open": {}}

    def _all_units(self) -> list:
        return [i for i, group in enumerate(self._groups) if group[2] > 0]

    def unit_rows(self, unit) -> int:
        return self._groups[unit][2]

    def _file(self, f: int):
        if f not in self._open:
            _, pq, _ = _pyarrow()
            self._open = {f: pq.ParquetFile(self.files[f])}  # one open file at a time
        return self._open[f]

    def read(self, unit):
        f, g, _ = self._groups[unit]
        for batch in self._file(f).iter_batches(batch_size=self.chunk_rows, row_groups=[g], columns=self.columns,
                                                use_threads=False):
            yield self._to_array(batch, f)

    def _to_array(self, batch, f: int) -> np.ndarray:
        """A record batch as a (rows, columns) float32 array (column-major); missing values refused by name."""
        for name, column in zip(self.columns, batch.columns):
            if column.null_count:
                raise DataError(f"column {name!r} of {self.files[f]!r} has {column.null_count} missing values; "
                                "fill in or drop missing values")
        cols = np.stack([np.asarray(c.to_numpy(zero_copy_only=False), dtype=np.float32) for c in batch.columns])
        # (rows, columns) as a column-major view: the shuffle buffer's scatter (or the batch's copy) transposes
        # it on the way, one pass instead of a transposed copy here and another copy there
        return cols.T

    def fingerprint(self) -> dict:
        files = [Path(f) for f in self.files]
        sizes = [f.stat().st_size for f in files]
        return {"kind": "parquet", "files": [[f.name, s] for f, s in zip(files, sizes)], "columns": self.columns,
                "first": _file_digest(files[0], sizes[0]), "last": _file_digest(files[-1], sizes[-1])}


def _partition_names(dataset) -> set:
    """Columns that come from a hive-style folder layout (``year=2024/``), not from the files."""
    partitioning = getattr(dataset, "partitioning", None)
    schema = getattr(partitioning, "schema", None)
    return set(schema.names) if schema is not None else set()
