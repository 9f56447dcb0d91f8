"""Inputs too large for memory: ``encode``, ``reconstruct`` and ``detect`` read them chunk by chunk and
write as they go (``.npy`` through a memory map, ``.parquet`` by row groups, ``.csv`` by lines), with a
progress display over rows. Memory holds a chunk, whatever the input's size.
"""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import numpy as np

from .._atomic import atomic_path
from ..exceptions import DataError
from ._progress import Progress

#: .npy and .parquet files larger than this are streamed (read chunk by chunk), as Parquet folders always are
STREAM_BYTES = 512 * 2 ** 20


def streams(data) -> bool:
    """Whether DATA is read as a stream: a folder of Parquet files, or a large .npy / .parquet file."""
    path = Path(str(data)).expanduser()
    if path.is_dir():
        return any(path.rglob("*.parquet"))
    return path.suffix.lower() in (".npy", ".parquet") and path.is_file() and path.stat().st_size > STREAM_BYTES


def open_stream(data):
    """A source for DATA when it streams (a Parquet folder, a large .npy / .parquet file), else None."""
    from ..data.sources import open_source

    return open_source(str(data)) if streams(data) else None


@contextlib.contextmanager
def chunk_writer(path, n_rows: int, columns: list, overwrite: bool = False):
    """``write(array)`` appends rows to ``path`` (.npy, .parquet or .csv), atomically: a failed or killed
    run leaves no half-written output."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".csv", ".parquet"):
        raise DataError(f"cannot write {str(path)!r}: use a .npy, .parquet or .csv file name")
    if not path.parent.exists():
        raise DataError(f"cannot write {str(path)!r}: the folder {str(path.parent)!r} does not exist")
    with atomic_path(path, overwrite=overwrite) as tmp:
        if suffix == ".npy":
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n_rows, len(columns)))
            pos = [0]

            def write(arr):
                out[pos[0]:pos[0] + len(arr)] = arr
                pos[0] += len(arr)

            yield write
            out.flush()
            del out
        elif suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = pa.schema([(c, pa.float32()) for c in columns])
            with pq.ParquetWriter(tmp, schema) as writer:
                yield lambda arr: writer.write_table(pa.table({c: arr[:, j] for j, c in enumerate(columns)},
                                                              schema=schema))
        else:
            import csv

            from ._common import csv_cells

            with open(tmp, "w", newline="", encoding="utf-8") as f:
                csv.writer(f, lineterminator="\n").writerow(csv_cells(columns))  # names quoted and escaped
                yield lambda arr: np.savetxt(f, arr, delimiter=",", fmt="%.7g")


def apply_stream(fn, source, output, columns: list, what: str, quiet: bool, overwrite: bool = False) -> int:
    """Write ``fn(chunk)`` for every chunk of ``source`` to ``output``; return the rows written."""
    n = source.n_rows
    progress = Progress(n, what, quiet)
    try:
        with chunk_writer(output, n, columns, overwrite) as write:
            for chunk in source.chunks():
                out = np.asarray(fn(chunk), dtype=np.float32)
                write(out.reshape(len(out), -1))
                progress.update(len(chunk))
    finally:
        progress.close()
    return n
