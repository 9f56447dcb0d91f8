"""Lossy compression with a fitted autoencoder (or PCA): quantised codes, entropy-coded, in an ``.aez`` file.

Pipeline: ``codes = estimator.transform(X)``; each code dimension is quantised uniformly to ``2**bits``
levels between its minimum and maximum over ``X`` (stored in the file); the integers, laid out one code
dimension after another, are compressed with LZMA (xz, preset 9 | extreme) or zlib (level 9). These are
general-purpose coders, not an arithmetic coder fitted to the code distribution: :func:`compression_stats`
also reports the empirical entropy of the quantised codes, the size such a coder would approach.

File layout (little-endian)::

    magic b"AEKITZ\\0\\n" | version u16 | codec u8 | bits u8 | n_samples u64 | latent_dim u32
    | model fingerprint 16 bytes | payload length u64 | payload CRC-32 u32 | header CRC-32 u32
    | low float32[latent_dim] | step float32[latent_dim] | payload

The model fingerprint is the first 16 bytes of a SHA-256 over the estimator's learned arrays, so a file
is only decoded by the model that wrote it. Both checksums are verified before anything is decoded.
"""
from __future__ import annotations

import gzip
import hashlib
import lzma
import struct
import zlib

import numpy as np

from ..exceptions import DataError

__all__ = ["CompressedFileError", "compress", "compression_stats", "decompress", "model_fingerprint"]

MAGIC = b"AEKITZ\0\n"
FORMAT_VERSION = 1
CODECS = {"lzma": 1, "zlib": 2}
_HEADER = struct.Struct("<8sHBBQI16sQII")  # everything up to and including the header CRC


class CompressedFileError(DataError):
    """An ``.aez`` file that is corrupt, truncated, foreign, newer, or made by another model."""


# ------------------------------------------------------------------------------------------- helpers
def model_fingerprint(estimator) -> bytes:
    """16 bytes identifying an estimator's learned state (aekit AutoEncoder or any scikit-learn transformer)."""
    h = hashlib.sha256()
    if hasattr(estimator, "model_"):  # aekit: the weights and the scaler
        arrays = {k: (v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v))
                  for k, v in estimator._bundle_tensors().items()}
    else:  # scikit-learn: every learned array attribute (PCA: components_, mean_, ...)
        arrays = {k: v for k, v in vars(estimator).items() if k.endswith("_") and isinstance(v, np.ndarray)}
    if not arrays:
        raise TypeError(f"{type(estimator).__name__} has no learned arrays to fingerprint; is it fitted?")
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode() + str(a.dtype).encode() + str(a.shape).encode() + a.tobytes())
    return h.digest()[:16]


def _int_dtype(bits: int):
    return np.uint8 if bits <= 8 else np.uint16


def _check_bits(bits) -> int:
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= bits <= 16:
        raise ValueError(f"bits must be an integer from 1 to 16 (levels per code value: 2**bits), got {bits!r}")
    return int(bits)


def _codec(codec: str) -> int:
    if codec not in CODECS:
        raise ValueError(f"codec must be one of {', '.join(repr(c) for c in CODECS)}, got {codec!r}")
    return CODECS[codec]


# ------------------------------------------------------------------------------------------ compress
def quantise(codes: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ints (n, k), low (k,), step (k,))`` with ``codes ~ low + ints * step``, ints in [0, 2**bits - 1]."""
    levels = 2 ** bits - 1
    low = codes.min(axis=0).astype(np.float32)
    span = codes.max(axis=0).astype(np.float32) - low
    step = np.where(span > 0, span / levels, 1.0).astype(np.float32)
    ints = np.clip(np.rint((codes - low) / step), 0, levels).astype(_int_dtype(bits))
    return ints, low, step


def compress(estimator, X, bits: int = 8, codec: str = "lzma") -> bytes:
    """The bytes of an ``.aez`` file holding ``X`` compressed by a fitted ``estimator``.

    Parameters
    ----------
    estimator : fitted AutoEncoder, or any transformer with ``transform`` / ``inverse_transform`` (PCA)
    X : array-like of shape (n_samples, ...), in the shape the estimator takes
    bits : int from 1 to 16, default=8
        Bits per code value before entropy coding.
    codec : {'lzma', 'zlib'}, default='lzma'

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> X = np.random.default_rng(0).random((100, 20)).astype(np.float32)
    >>> pca = PCA(4).fit(X)
    >>> blob = compress(pca, X, bits=6)
    >>> decompress(pca, blob).shape
    (100, 20)
    """
    bits, codec_id = _check_bits(bits), _codec(codec)
    codes = np.asarray(estimator.transform(X), dtype=np.float32)  # (n, latent_dim)
    ints, low, step = quantise(codes, bits)
    raw = np.ascontiguousarray(ints.T).tobytes()  # one code dimension after another: similar values together
    payload = lzma.compress(raw, preset=9 | lzma.PRESET_EXTREME) if codec == "lzma" else zlib.compress(raw, 9)
    n, k = codes.shape
    head = _HEADER.pack(MAGIC, FORMAT_VERSION, codec_id, bits, n, k, model_fingerprint(estimator), len(payload),
                        zlib.crc32(payload), 0)
    tables = low.astype("<f4").tobytes() + step.astype("<f4").tobytes()
    header_crc = zlib.crc32(head[:-4] + tables)
    return head[:-4] + struct.pack("<I", header_crc) + tables + payload


# ---------------------------------------------------------------------------------------- decompress
def read_header(blob: bytes, source: str = "the data") -> dict:
    """Check magic, version and both checksums of an ``.aez`` file; return its header fields."""
    if len(blob) < _HEADER.size or not blob.startswith(MAGIC):
        raise CompressedFileError(f"{source} is not an aekit compressed file (it does not start with the .aez "
                                  "magic bytes); give a file written by aekit compress")
    magic, version, codec_id, bits, n, k, fingerprint, length, payload_crc, header_crc = _HEADER.unpack_from(blob)
    if version < 1:
        raise CompressedFileError(f"{source} has an invalid .aez format version ({version}); the file is damaged")
    if version > FORMAT_VERSION:
        raise CompressedFileError(f"{source} is .aez format version {version}; this aekit reads version "
                                  f"{FORMAT_VERSION} and older: upgrade aekit")
    end_tables = _HEADER.size + 8 * k
    if len(blob) < end_tables or zlib.crc32(blob[:_HEADER.size - 4] + blob[_HEADER.size:end_tables]) != header_crc:
        raise CompressedFileError(f"{source} has a corrupt header (checksum mismatch or truncated); "
                                  "the file was damaged: compress the data again")
    payload = blob[end_tables:]
    if len(payload) != length or zlib.crc32(payload) != payload_crc:
        raise CompressedFileError(f"{source} is corrupt: its payload holds {len(payload)} bytes, expected {length}, "
                                  "or fails its checksum; the file was damaged or truncated: compress the data again")
    codec = {v: c for c, v in CODECS.items()}.get(codec_id)
    if codec is None or not 1 <= bits <= 16:
        raise CompressedFileError(f"{source} names an unknown codec ({codec_id}) or bit depth ({bits})")
    low = np.frombuffer(blob, "<f4", k, _HEADER.size)
    step = np.frombuffer(blob, "<f4", k, _HEADER.size + 4 * k)
    if n == 0 or not (np.isfinite(low).all() and np.isfinite(step).all()):
        raise CompressedFileError(f"{source} holds no samples or non-finite quantisation tables; the file is damaged: "
                                  "compress the data again")
    return {"version": version, "codec": codec, "bits": bits, "n_samples": n, "latent_dim": k,
            "fingerprint": fingerprint, "low": low, "step": step, "payload": payload}


#: the most a payload may expand: zlib's deflate tops out near 1032:1; LZMA on a constant stream reaches a
#: few thousand. A header declaring more samples than this is refused before anything is decompressed.
_MAX_RATIO = {"zlib": 1100, "lzma": 50000}


def decode_ints(head: dict, source: str = "the data") -> np.ndarray:
    """The quantised codes ``(latent_dim, n_samples)`` of a checked header; never more bytes than it declares."""
    n, k, dtype = head["n_samples"], head["latent_dim"], np.dtype(_int_dtype(head["bits"]))
    expected = n * k * dtype.itemsize
    payload = head["payload"]
    if expected > _MAX_RATIO[head["codec"]] * len(payload) + 4096:
        raise CompressedFileError(f"{source} declares {n:,} samples of {k} code values ({expected:,} bytes), far "
                                  f"more than its {len(payload):,}-byte payload can hold; the file is damaged")
    engine = lzma.LZMADecompressor() if head["codec"] == "lzma" else zlib.decompressobj()
    try:
        raw = engine.decompress(payload, expected + 1)  # at most what the header declares, plus one to notice more
        complete = engine.eof and not engine.unused_data
    except (lzma.LZMAError, zlib.error, MemoryError) as e:
        raise CompressedFileError(f"{source} has a payload that does not decode ({e}); the file is damaged: "
                                  "compress the data again") from e
    if len(raw) != expected or not complete:
        raise CompressedFileError(f"{source}: the payload decodes to {len(raw):,}{'+' if len(raw) > expected else ''}"
                                  f" bytes, but the header declares {n:,} samples x {k} values = {expected:,} bytes;"
                                  " the file is damaged: compress the data again")
    return np.frombuffer(raw, dtype).reshape(k, n)


def decompress(estimator, blob: bytes, source: str = "the data") -> np.ndarray:
    """Decode the bytes of an ``.aez`` file with the estimator that wrote it; reconstructions ``(n, ...)``."""
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise TypeError(f"decompress takes the bytes of an .aez file, got {type(blob).__name__}")
    head = read_header(bytes(blob), source)
    expected = model_fingerprint(estimator)
    if head["fingerprint"] != expected:
        raise CompressedFileError(
            f"{source} was compressed with another model (fingerprint {head['fingerprint'].hex()}, this model's is "
            f"{expected.hex()}); decompress it with the model that compressed it"
        )
    ints = decode_ints(head, source).T  # (n, k)
    with np.errstate(over="ignore", invalid="ignore"):  # a hostile table overflows: refused below, quietly
        codes = (head["low"] + ints.astype(np.float32) * head["step"]).astype(np.float32)
    if not np.isfinite(codes).all():
        raise CompressedFileError(f"{source} decodes to non-finite codes; the file is damaged: compress again")
    return np.asarray(estimator.inverse_transform(codes), dtype=np.float32)


# ------------------------------------------------------------------------------------------- measures
def _raw_8bit(flat: np.ndarray) -> bool:
    """True when the data are 8-bit values scaled to [0, 1] (images as aekit loads them)."""
    return bool(flat.min() >= 0 and flat.max() <= 1 and np.allclose(flat * 255, np.rint(flat * 255), atol=1e-3))


def compression_stats(X, X_hat, blob: bytes) -> dict:
    """Sizes and errors of one compression.

    ``raw`` is the data as 8-bit integers when they are 8-bit values scaled to [0, 1] (MNIST), else float32;
    ``gzip`` is that raw form compressed by gzip level 9. PSNR uses a data range of 1 for data in [0, 1],
    else the data's max - min. ``entropy_bytes_per_sample`` is the zeroth-order empirical entropy of the
    quantised codes (per code dimension), the size an ideal arithmetic coder with those frequencies would
    approach, tables not counted.
    """
    flat = np.asarray(X, dtype=np.float32).reshape(len(X), -1)
    rec = np.asarray(X_hat, dtype=np.float32).reshape(flat.shape)
    n = len(flat)
    eight = _raw_8bit(flat)
    raw = np.rint(flat * 255).astype(np.uint8).tobytes() if eight else flat.tobytes()
    gz = len(gzip.compress(raw, compresslevel=9, mtime=0))
    mse = float(np.mean((rec.astype(np.float64) - flat) ** 2))
    in_unit = bool(flat.min() >= 0 and flat.max() <= 1)
    data_range = 1.0 if in_unit else float(flat.max() - flat.min())
    ints = decode_ints(read_header(blob))
    entropy_bits = sum(_entropy_bits(row) for row in ints)
    return {
        "n_samples": n,
        "bytes": len(blob),
        "bytes_per_sample": len(blob) / n,
        "bits_per_sample": 8 * len(blob) / n,
        "raw_format": "uint8" if eight else "float32",
        "raw_bytes_per_sample": len(raw) / n,
        "gzip_bytes_per_sample": gz / n,
        "ratio_to_raw": len(raw) / len(blob),
        "ratio_to_gzip": gz / len(blob),
        "entropy_bytes_per_sample": entropy_bits / 8 / n,
        "mse": mse,
        "psnr": float(10 * np.log10(data_range ** 2 / mse)) if mse > 0 else float("inf"),
    }


def _entropy_bits(symbols: np.ndarray) -> float:
    counts = np.bincount(symbols).astype(np.float64)
    p = counts[counts > 0] / len(symbols)
    return float(-(counts[counts > 0] * np.log2(p)).sum())
