"""Read and write the files aekit takes: tables (CSV, .npy, .npz, Parquet), IDX arrays and PNG folders.

Every reader returns float32 numbers or raises :class:`~aekit.exceptions.DataError` with a message that
names the file (and the column and line where it can) and says how to fix it.
"""
from __future__ import annotations

import csv
import gzip
import logging
import struct
import zlib
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..exceptions import DataError

__all__ = ["list_images", "read_idx", "decode_idx", "read_images", "read_table", "write_images"]

logger = logging.getLogger(__name__)

TABLE_SUFFIXES = (".csv", ".npy", ".npz", ".parquet")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")

# IDX type byte -> numpy dtype (big-endian), from the format's definition on the MNIST page.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


# --------------------------------------------------------------------------------------------- tables
def read_table(path) -> "Dataset":
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
    from .datasets import Dataset  # datasets imports this module, so import it here, not at the top

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
    if row is None:
        raise DataError(f"{str(path)!r} holds no rows of data; expected an optional header line and rows of numbers")
    try:  # the fast path: numpy's C parser
        X = np.loadtxt(path, delimiter=delimiter, skiprows=header_lines if header else 0, dtype=np.float64,
                       ndmin=2, comments=None, quotechar='"', encoding="utf-8-sig")
    except ValueError as e:
        raise (_csv_error(path, delimiter, header) or DataError(f"could not read {str(path)!r}: {e}")) from e
    return {"X": X.astype(np.float32), "feature_names": header}


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
                    f"column {column} (line {reader.line_num}) {what}; aekit takes numeric columns only: {fix}"
                )
    return None


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
        return {"X": arr.astype(np.float32)}
    X = arr.reshape(arr.shape[0], -1).astype(np.float32)
    if arr.dtype == np.uint8:  # 8-bit pixels: scale to [0, 1] as the built-in image sets are
        X /= 255.0
    return {"X": X, "image_shape": tuple(int(s) for s in arr.shape[1:])}


def _load_npy(path: Path):
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as e:  # object arrays need pickle, which could run code: refuse
        raise DataError(f"{str(path)!r} holds Python objects or is not a .npy/.npz file ({e}); "
                        f"save a numeric array with numpy.save / numpy.savez") from e


def _read_npy(path: Path) -> dict:
    return _as_2d(_load_npy(path), path)


def _labels(y: np.ndarray, n: int, path: Path, name: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1 or y.shape[0] != n:
        raise DataError(f"array {name!r} in {str(path)!r} has shape {y.shape}; expected ({n},), one label per sample")
    if y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
        y = y.astype(np.int64)
    return y


def _read_npz(path: Path) -> dict:
    archive = _load_npy(path)
    if isinstance(archive, np.ndarray):  # a .npy saved under a .npz name
        return _as_2d(archive, path)
    with archive:
        arrays = {k: archive[k] for k in archive.files}
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
        columns.append(col.to_numpy().astype(np.float32))
    X = np.column_stack(columns) if columns else np.empty((table.num_rows, 0), np.float32)
    return {"X": X.astype(np.float32, copy=False), "feature_names": list(table.column_names)}


# ------------------------------------------------------------------------------------------------ IDX
def decode_idx(buf: bytes, source: str = "IDX data", magic: Optional[int] = None) -> np.ndarray:
    """Decode IDX bytes (the MNIST format) into an array of the shape its header gives.

    ``magic`` (e.g. ``0x803`` for 3-D unsigned bytes) is checked when given. No Python loop: the
    payload is a view made with ``np.frombuffer``.
    """
    if len(buf) < 4 or buf[0] != 0 or buf[1] != 0:
        raise DataError(f"{source} is not an IDX file: it does not start with two zero bytes; "
                        f"replace it with the original file")
    (found,) = struct.unpack(">I", buf[:4])
    if magic is not None and found != magic:
        raise DataError(f"{source}: IDX magic number is 0x{found:08x}, expected 0x{magic:08x}; "
                        f"the file is not the one its name says: replace it with the original file")
    dtype, ndim = _IDX_DTYPES.get(buf[2]), buf[3]
    if dtype is None:
        raise DataError(f"{source}: unknown IDX type byte 0x{buf[2]:02x}; expected one of "
                        f"{', '.join(f'0x{t:02x}' for t in _IDX_DTYPES)}")
    start = 4 + 4 * ndim
    if len(buf) < start:
        raise DataError(f"{source} is truncated inside its header; replace it with the original file")
    shape = struct.unpack(f">{ndim}I", buf[4:start])
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if len(buf) - start != size:
        raise DataError(f"{source}: the header gives shape {shape} ({size} bytes of data), but the file holds "
                        f"{len(buf) - start}; the file is truncated or damaged: replace it with the original file")
    return np.frombuffer(buf, dtype=dtype, offset=start).reshape(shape)


def read_idx(path, magic: Optional[int] = None) -> np.ndarray:
    """Read an IDX file (gzip-compressed if it ends in ``.gz``); see :func:`decode_idx`."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such file: {str(path)!r}")
    buf = path.read_bytes()
    if path.suffix == ".gz":
        try:
            buf = gzip.decompress(buf)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{str(path)!r} is not a readable gzip file ({e}); replace it") from e
    return decode_idx(buf, repr(str(path)), magic)


# --------------------------------------------------------------------------------------------- images
def list_images(folder) -> list[Path]:
    """The image files (``.png``, ``.jpg``, ``.jpeg``) directly in ``folder``, sorted by name."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DataError(f"no such folder: {str(folder)!r}; expected a folder of PNG images")
    paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise DataError(f"no images in {str(folder)!r}; expected files ending in {', '.join(IMAGE_SUFFIXES)}")
    return paths


def _gray(path: Path) -> np.ndarray:
    """One image as (H, W) float32 in [0, 1]; color channels are averaged, alpha is ignored."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
    except (OSError, UnidentifiedImageError) as e:
        raise DataError(f"could not read image {str(path)!r}: {e}") from e
    if img.mode in ("1", "L", "LA", "La"):
        return np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    if img.mode.startswith("I"):  # 16-bit grayscale PNG
        return np.asarray(img, dtype=np.float32) / 65535.0
    if img.mode == "F":
        return np.asarray(img, dtype=np.float32)
    return np.asarray(img.convert("RGB"), dtype=np.float32).mean(axis=2) / 255.0


def read_images(folder) -> np.ndarray:
    """Read a folder of same-sized images as grayscale, sorted by file name.

    Returns
    -------
    ndarray of shape (n_images, height, width), float32 in [0, 1]

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> _ = write_images(folder, np.zeros((2, 8, 8)))
    >>> read_images(folder).shape
    (2, 8, 8)
    """
    paths = list_images(folder)
    first = _gray(paths[0])
    out = np.empty((len(paths), *first.shape), dtype=np.float32)
    out[0] = first
    for i, path in enumerate(paths[1:], start=1):
        img = _gray(path)
        if img.shape != first.shape:
            raise DataError(
                f"images differ in size: {paths[0].name!r} is {first.shape[0]}x{first.shape[1]} but "
                f"{path.name!r} is {img.shape[0]}x{img.shape[1]} (height x width); resize them to one size"
            )
        out[i] = img
    logger.info("read %d images of %dx%d from %s", len(paths), *first.shape, folder)
    return out


def write_images(folder, images, names: Optional[Sequence[str]] = None, overwrite: bool = False) -> list[Path]:
    """Write grayscale images (n, height, width) with values in [0, 1] as 8-bit PNG files.

    Files are named ``names`` (e.g. the inputs' names from :func:`list_images`) or ``image_00000.png``...;
    values outside [0, 1] are clipped. Existing files are kept unless ``overwrite=True``. Returns the paths.
    """
    from PIL import Image

    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 3:
        raise DataError(f"images have shape {images.shape}; expected (n_images, height, width)")
    if names is None:
        width = max(5, len(str(len(images) - 1)))
        names = [f"image_{i:0{width}d}.png" for i in range(len(images))]
    if len(names) != len(images):
        raise DataError(f"got {len(names)} names for {len(images)} images; give one name per image")
    folder = Path(folder).expanduser()
    paths = [folder / Path(name).with_suffix(".png").name for name in names]
    clash = next((p for p in paths if p.exists()), None)
    if clash is not None and not overwrite:
        raise DataError(f"{str(clash)!r} exists; pass overwrite=True to replace it, or choose another folder")
    folder.mkdir(parents=True, exist_ok=True)
    pixels = np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)
    for path, img in zip(paths, pixels):
        Image.fromarray(img).save(path)  # uint8 (H, W) -> mode "L"
    logger.info("wrote %d images to %s", len(paths), folder)
    return paths
