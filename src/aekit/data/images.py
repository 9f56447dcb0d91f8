"""Folders of images: read as one (n, height, width) array in [0, 1], written as 8-bit grey PNGs."""
from __future__ import annotations

import logging
import struct
import warnings
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from .._atomic import atomic_path
from ..exceptions import DataError

__all__ = ["IMAGE_SUFFIXES", "list_images", "read_images", "write_images"]

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def list_images(folder) -> list[Path]:
    """The image files (``.png``, ``.jpg``, ``.jpeg``) directly in ``folder``, sorted by name."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DataError(f"no such folder: {str(folder)!r}; expected a folder of PNG images")
    paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise DataError(f"no images in {str(folder)!r}; expected files ending in {', '.join(IMAGE_SUFFIXES)}")
    return paths


#: what Pillow raises on a damaged or hostile image (its PNG plugin raises SyntaxError for bad chunks)
_IMAGE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, TypeError, IndexError, KeyError,
                 ZeroDivisionError, OverflowError)


def _gray(path: Path) -> np.ndarray:
    """One image as (H, W) float32 in [0, 1]; color channels are averaged, alpha is ignored.

    An image of more pixels than Pillow's ``Image.MAX_IMAGE_PIXELS`` (a decompression bomb) is refused
    before its pixels are decoded.
    """
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                img.load()
                return _pixels(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise DataError(f"image {str(path)!r} is too large to read safely ({e}); resize it") from e
    except _IMAGE_ERRORS as e:
        raise DataError(f"could not read image {str(path)!r}: {type(e).__name__}: {e}") from e


def _pixels(img) -> np.ndarray:
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
        with atomic_path(path, overwrite=overwrite) as tmp:
            Image.fromarray(img).save(tmp, format="PNG")  # uint8 (H, W) -> mode "L"
    logger.info("wrote %d images to %s", len(paths), folder)
    return paths
