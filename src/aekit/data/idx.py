"""The IDX format of MNIST and Fashion-MNIST: big-endian header, then the array."""
from __future__ import annotations

import gzip
import io
import math
import struct
import zlib
from pathlib import Path
from typing import Optional

import numpy as np

from ..exceptions import DataError

__all__ = ["decode_idx", "read_idx"]

# IDX type byte -> numpy dtype (big-endian), from the format's definition on the MNIST page.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


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
    size = math.prod(shape) * np.dtype(dtype).itemsize  # Python ints: a header of huge sizes cannot overflow
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
        buf = gunzip(buf, repr(str(path)))
    return decode_idx(buf, repr(str(path)), magic)


#: deflate expands at most about 1032:1, so a gzip file can hold no more than this times its size
_DEFLATE_RATIO = 1100


def gunzip(buf: bytes, source: str) -> bytes:
    """The decompressed bytes of a gzip file, refusing more than deflate can hold (a gzip bomb)."""
    limit = _DEFLATE_RATIO * len(buf) + 65536
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(buf)) as f:
            data = f.read(limit + 1)
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{source} is not a readable gzip file ({e}); replace it") from e
    if len(data) > limit:
        raise DataError(f"{source} expands to more than {limit:,} bytes, beyond what deflate can hold; "
                        "the file is damaged or hostile: replace it")
    return data
