"""Read the tables aekit takes: CSV, .npy, .npz and Parquet (IDX arrays: idx.py; image folders: images.py).

Every reader returns float32 numbers or raises :class:`~aekit.exceptions.DataError` with a message that
names the file (and the column and line where it can) and says how to fix it.
"""
from __future__ import annotations

import csv
import logging
import math
import zipfile
import zlib
from pathlib import Path
from typing import Optional

import numpy as np

from ..exceptions import DataError
from .dataset import Dataset
from .validation import as_float32

__all__ = ["read_table"]

logger = logging.getLogger(__name__)

TABLE_SUFFIXES = (".csv", ".npy", ".npz", ".parquet")



# --------------------------------------------------------------------------------------------- tables
def read_table(path) -> Dataset:
    """Read a numeric table into a :class:`~aekit.data.datasets.Dataset` named after the file's stem.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` (a first row with any non-numeric cell is taken as the header), ``.npy`` (2-D, or 3-D/4-D
        image arrays, flattened with ``image_shape`` set to the trailing shape; uint8 images are scaled to
        [0, 1]), ``.npz`` (array ``X`` if present, else the first array; ``y`` as labels if present) or
        ``.parquet`` file (needs pyarrow). No column of a CSV or Parquet file is taken as labels.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "points.npy")
    >>> np.save(path, np.ones((4, 3)))
    >>> read_table(path).X.shape
    (4, 3)
    """

    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    if not path.is_file():
        raise DataError(f"no such file: {str(path)!r}")
    if suffix not in TABLE_SUFFIXES:
        raise DataError(
            f"cannot read {str(path)!r}: unknown file type {suffix or '(no extension)'!r}; "
            f"supported: {', '.join(TABLE_SUFFIXES)}. Save the data in one of these formats"
        )
    readers = {".csv": _read_csv, ".npy": _read_npy, ".npz": _read_npz, ".parquet": _read_parquet}
    fields = readers[suffix](path)
    if fields["X"].shape[0] == 0:
        raise DataError(f"{str(path)!r} holds no rows of data; expected at least one sample")
    logger.info("read %s: %d samples x %d features", path, *fields["X"].shape)
    return Dataset(name=path.stem, **fields)


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _read_csv(path: Path) -> dict:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            first = f.readline()
            delimiter = _sniff_delimiter(first)
            f.seek(0)
            reader = csv.reader(f, delimiter=delimiter)
            rows = (r for r in reader if r)
            row = next(rows, None)
            header_lines = reader.line_num
            header = [c.strip() for c in row] if row and not all(_is_number(c) for c in row) else None
            if header is not None and next(rows, None) is None:
                row = None
    except UnicodeDecodeError as e:
        raise DataError(f"{str(path)!r} is not UTF-8 text ({e}); save the CSV as UTF-8") from e
    except csv.Error as e:  # a NUL byte, a field beyond the csv module's limit, a stray quote
        raise DataError(f"{str(path)!r} is not a readable CSV file ({e}); save it again as plain CSV") from e
    if row is None:
        raise DataError(f"{str(path)!r} holds no rows of data; expected an optional header line and rows of numbers")
    try:  # the fast path: numpy's C parser
        X = np.loadtxt(path, delimiter=delimiter, skiprows=header_lines if header else 0, dtype=np.float64,
                       ndmin=2, comments=None, quotechar='"', encoding="utf-8-sig")
    except ValueError as e:
        try:
            found = _csv_error(path, delimiter, header)
        except (csv.Error, UnicodeDecodeError, StopIteration):
            found = None
        raise (found or DataError(f"could not read {str(path)!r}: {e}")) from e
    return {"X": _float32(X, path), "feature_names": header}


def _csv_error(path: Path, delimiter: str, header: Optional[list]) -> Optional[DataError]:
    """Find the first bad cell again with the csv module, which knows line numbers; None if none found."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=delimiter)
        rows = (r for r in reader if r)
        width = len(next(rows)) if header else None
        for row in rows:
            width = width or len(row)
            if len(row) != width:
                return DataError(
                    f"line {reader.line_num} of {str(path)!r} has {len(row)} values, but the "
                    f"{'header' if header else 'first line'} has {width}; every row needs one value per column"
                )
            for j, cell in enumerate(row):
                if _is_number(cell):
                    continue
                column = repr(header[j]) if header else str(j + 1)
                what = "is empty" if not cell.strip() else f"holds {cell.strip()!r}, which is not a number"
                fix = "fill in or drop missing values" if not cell.strip() else "drop or encode it"
                return DataError(
                    f"column {column} (line {reader.line_num} of {str(path)!r}) {what}; aekit takes numeric columns only: {fix}"
                )
    return None


def _float32(arr: np.ndarray, path: Path, what: str = "the data") -> np.ndarray:
    return as_float32(arr, f"{what} in {str(path)!r}")


def _as_2d(arr: np.ndarray, path: Path, what: str = "array") -> dict:
    """A numeric (n, features) or (n, *image_shape) array -> X (n, prod) float32 and image_shape."""
    if arr.dtype.kind not in "fiub":
        raise DataError(f"{what} in {str(path)!r} has dtype {arr.dtype}; aekit takes numeric arrays only")
    if arr.ndim not in (2, 3, 4):
        raise DataError(
            f"{what} in {str(path)!r} has shape {arr.shape}; expected (n_samples, n_features) or images "
            f"(n_samples, height, width[, channels]). Reshape it, e.g. X.reshape(-1, 1) for one feature"
        )
    if arr.ndim == 2:
        return {"X": _float32(arr, path, what)}
    X = _float32(arr.reshape(arr.shape[0], -1), path, what)
    if arr.dtype == np.uint8:  # 8-bit pixels: scale to [0, 1] as the built-in image sets are
        X /= 255.0
    return {"X": X, "image_shape": tuple(int(s) for s in arr.shape[1:])}


#: what numpy, zipfile and zlib raise on a damaged .npy/.npz: turned into one DataError naming the file
_NPY_ERRORS = (ValueError, TypeError, OSError, EOFError, SyntaxError, KeyError, RecursionError, OverflowError,
               NotImplementedError, zipfile.BadZipFile, zlib.error, UnicodeDecodeError)
#: the most a deflate stream can expand (zlib's limit is 1032:1): what a zip member can hold
_DEFLATE_RATIO = 1100


def _read_array(f, room: int, source: str) -> np.ndarray:
    """One .npy array from the open file ``f``, after checking that its header's shape fits in ``room`` bytes."""
    try:
        version = np.lib.format.read_magic(f)
        shape, fortran, dtype = (np.lib.format.read_array_header_1_0(f) if version == (1, 0)
                                 else np.lib.format.read_array_header_2_0(f))
    except Exception as e:  # numpy parses the header with Python's tokenizer: a damaged one fails in many ways
        raise DataError(f"{source} has a damaged .npy header ({type(e).__name__}: {e}); save it again") from e
    if dtype.hasobject:  # object arrays need pickle, which could run code: refuse
        raise DataError(f"{source} holds Python objects; save a numeric array with numpy.save / numpy.savez")
    need = math.prod(shape) * dtype.itemsize
    if need > room:
        raise DataError(f"{source} declares an array of shape {shape} ({need:,} bytes), but the file holds "
                        f"{room:,} bytes; the file is damaged or truncated: save it again")
    data = bytearray(need)  # writable, and no larger than the file: checked above
    got = f.readinto(data)
    if got != need:
        raise DataError(f"{source} is truncated: {got:,} of {need:,} bytes of data; save it again")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _load_npy(path: Path):
    """A .npy array, or a dict of the arrays of a .npz file (read member by member, each size-checked)."""
    source = repr(str(path))
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
            f.seek(0)
            if magic.startswith(b"PK"):
                return _load_npz_members(path)
            if magic != b"\x93NUMPY":
                raise DataError(f"{source} is not a .npy/.npz file (no numpy or zip magic bytes); "
                                "save a numeric array with numpy.save / numpy.savez")
            return _read_array(f, path.stat().st_size, source)
    except DataError:
        raise
    except _NPY_ERRORS as e:
        raise DataError(f"{source} is not a readable .npy/.npz file ({type(e).__name__}: {e}); "
                        "save a numeric array with numpy.save / numpy.savez") from e


def _load_npz_members(path: Path) -> dict:
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            room = info.file_size
            if info.compress_type != zipfile.ZIP_STORED and room > _DEFLATE_RATIO * info.compress_size + 1024:
                raise DataError(f"member {info.filename!r} of {str(path)!r} claims {room:,} bytes from "
                                f"{info.compress_size:,} compressed (a zip bomb or a damaged file)")
            with archive.open(info) as f:
                arrays[info.filename[:-4]] = _read_array(f, room, f"member {info.filename!r} of {str(path)!r}")
    return arrays


def _read_npy(path: Path) -> dict:
    array = _load_npy(path)
    return _read_npz(path, array) if isinstance(array, dict) else _as_2d(array, path)


def _labels(y: np.ndarray, n: int, path: Path, name: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1 or y.shape[0] != n:
        raise DataError(f"array {name!r} in {str(path)!r} has shape {y.shape}; expected ({n},), one label per sample")
    if y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
        y = y.astype(np.int64)
    return y


def _read_npz(path: Path, arrays=None) -> dict:
    arrays = _load_npy(path) if arrays is None else arrays
    if isinstance(arrays, np.ndarray):  # a .npy saved under a .npz name
        return _as_2d(arrays, path)
    x_key = "X" if "X" in arrays else next((k for k in arrays if k not in ("y", "X_test", "y_test")), None)
    if x_key is None:
        raise DataError(f"{str(path)!r} holds no data array (found: {', '.join(arrays) or 'nothing'}); "
                        f"save it with numpy.savez(path, X=X[, y=y])")
    fields = _as_2d(arrays[x_key], path, f"array {x_key!r}")
    if "y" in arrays:
        fields["y"] = _labels(arrays["y"], fields["X"].shape[0], path, "y")
    if "X_test" in arrays:
        test = _as_2d(arrays["X_test"], path, "array 'X_test'")
        fields["X_test"] = test["X"]
        if "y_test" in arrays:
            fields["y_test"] = _labels(arrays["y_test"], test["X"].shape[0], path, "y_test")
    return fields


def _read_parquet(path: Path) -> dict:
    try:
        import pyarrow.parquet as pq
        import pyarrow.types as pat
    except ImportError as e:
        raise DataError("reading .parquet needs pyarrow: pip install 'aekit[parquet]'") from e
    try:
        table = pq.read_table(path)
    except Exception as e:  # pyarrow raises its own ArrowInvalid / OSError family on foreign files
        raise DataError(f"could not read {str(path)!r} as Parquet: {e}") from e
    columns = []
    for name, col in zip(table.column_names, table.columns):
        if not (pat.is_integer(col.type) or pat.is_floating(col.type) or pat.is_boolean(col.type)):
            raise DataError(f"column {name!r} holds {col.type} values, which are not numbers; "
                            f"aekit takes numeric columns only: drop or encode it")
        if col.null_count:
            first = int(np.argmax(col.is_null().to_numpy(zero_copy_only=False)))
            raise DataError(f"column {name!r} has {col.null_count} missing values (the first in row {first + 1}); "
                            f"fill in or drop missing values")
        columns.append(_float32(col.to_numpy(), path, f"column {name!r}"))
    X = np.column_stack(columns) if columns else np.empty((table.num_rows, 0), np.float32)
    return {"X": X.astype(np.float32, copy=False), "feature_names": list(table.column_names)}
