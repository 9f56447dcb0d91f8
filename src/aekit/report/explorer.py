"""The latent explorer: one JSON payload with the points, thumbnails and decoded grid, drawn by the bundled
``explorer.js`` (plain JavaScript, inlined into the page; nothing is fetched).

Numbers travel as base64 typed arrays (compact, and parsed without a JSON number per value); image thumbnails
as one PNG sprite sheet. A variational model also gets a grid of samples decoded over the plotted range, so
that clicking an empty spot shows what the decoder makes there without any model code in the browser.
"""
from __future__ import annotations

import base64
import io
import json
from importlib import resources
from typing import Optional

import numpy as np
from markupsafe import Markup

from .content import ReportContent

MAX_THUMBNAILS = 10000  # image thumbnails kept (a 28x28 sheet of 10000 is about 2 MB)
MAX_TABLE_ROWS = 5000  # table rows whose values are kept for hovering
MAX_FEATURES = 24  # table columns shown on hover
SPRITE_MAX_PX = 4096  # sprite sheets stay within what every browser decodes
GRID_SIZE = 20  # decoded grid of a variational model: GRID_SIZE x GRID_SIZE samples


def script() -> str:
    """The explorer's JavaScript, shipped as package data."""
    return resources.files(__package__).joinpath("explorer.js").read_text(encoding="utf-8")


def _b64(array: np.ndarray, dtype) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


def png_data_uri(grey: np.ndarray) -> str:
    """A 2-D array of values in [0, 1] as a greyscale PNG data URI."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.round(np.clip(grey, 0, 1) * 255).astype(np.uint8), mode="L").save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def sprite_sheet(images: np.ndarray, max_count: int = MAX_THUMBNAILS) -> dict:
    """Images ``(m, h, w)`` in [0, 1] tiled row by row into one PNG: ``{src, w, h, cols, count}``."""
    m, h, w = images.shape
    cols = max(1, min(m, SPRITE_MAX_PX // w))
    count = min(m, max_count, cols * max(1, SPRITE_MAX_PX // h))
    rows = -(-count // cols)
    tiles = np.ones((rows * cols, h, w), dtype=np.float32)
    tiles[:count] = images[:count]
    sheet = tiles.reshape(rows, cols, h, w).transpose(0, 2, 1, 3).reshape(rows * h, cols * w)
    return {"src": png_data_uri(sheet), "w": int(w), "h": int(h), "cols": int(cols), "count": int(count)}


def _unit_range(X: np.ndarray):
    """Map to [0, 1] for display: image data already there is kept as it is, anything else min-max scaled."""
    lo, hi = float(X.min()), float(X.max())
    if lo >= 0.0 and hi <= 1.0:
        return lambda A: A
    span = hi - lo if hi > lo else 1.0
    return lambda A: (A - lo) / span


def _images(rows: np.ndarray, image_shape: tuple, scale) -> np.ndarray:
    h, w = image_shape[-2], image_shape[-1]
    flat = rows.reshape(len(rows), -1)[:, :h * w]  # the first channel of multi-channel images
    return scale(flat).reshape(len(rows), h, w)


def _table(rows: np.ndarray, names: list, recon: Optional[np.ndarray] = None) -> dict:
    nf = min(rows.shape[1], MAX_FEATURES)
    out = {"names": names[:nf], "nf": nf, "count": len(rows), "more": rows.shape[1] - nf,
           "values": _b64(rows[:, :nf], np.float32)}
    if recon is not None:
        out["recon"] = _b64(recon[:, :nf], np.float32)
    return out


def payload(content: ReportContent, max_thumbnails: int = MAX_THUMBNAILS, decode_grid: Optional[bool] = None,
            grid_size: int = GRID_SIZE) -> dict:
    """The explorer's data. ``decode_grid`` None decodes a grid for variational models only."""
    X, n = content.X, len(content.X)
    scores = content.scores if content.scores is not None else content.errors
    labels = content.y if content.y is not None else np.zeros(n, dtype=np.int32)
    d = {
        "n": n, "x": _b64(content.coords[:, 0], np.float32), "y": _b64(content.coords[:, 1], np.float32),
        "label": _b64(labels, np.uint16), "labelNames": list(content.label_names),
        "err": _b64(scores, np.float32), "index": _b64(content.index, np.int32),
        "errorName": "anomaly score" if content.scores is not None else "reconstruction error",
        "axis": list(content.axis_labels), "sprite": None, "table": None, "grid": None,
    }
    kept = ""
    if content.image_shape is not None:
        scale = _unit_range(X)
        d["sprite"] = sprite_sheet(_images(X[:max_thumbnails], content.image_shape, scale), max_thumbnails)
        kept = d["sprite"]["count"]
    else:
        names = content.feature_names or [f"x{i + 1}" for i in range(X.shape[1])]
        m = min(n, MAX_TABLE_ROWS)
        d["table"] = _table(X[:m], names, content.reconstruct(X[:m]) if content.reconstruct else None)
        kept = m
    note = f"{n} samples; axes: {content.projection_note}."
    if kept < n:
        note += f" The first {kept} points (a random subset) carry their {'thumbnail' if content.image_shape else 'values'}."
    if decode_grid is None:
        decode_grid = content.variational
    if decode_grid and content.decode is not None and content.to_latent is not None:
        d["grid"] = _grid(content, grid_size)
        note += (f" Clicking an empty spot shows the sample decoded at the nearest point of a {grid_size} x "
                 f"{grid_size} grid over the plotted range, decoded when this report was written.")
    d["note"] = note
    return d


def _grid(content: ReportContent, size: int) -> dict:
    c = content.coords
    x0, x1 = float(c[:, 0].min()), float(c[:, 0].max())
    y0, y1 = float(c[:, 1].min()), float(c[:, 1].max())
    if y1 <= y0:  # a 1-D code: the explorer spreads the points' zero y over [-1, 1]
        y0, y1 = -1.0, 1.0
    gx, gy = np.linspace(x0, x1, size), np.linspace(y0, y1, size)
    points = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2)  # row k = (gx[k % size], gy[k // size])
    samples = content.decode(np.asarray(content.to_latent(points), dtype=np.float32))
    grid = {"size": size, "x0": x0, "x1": x1, "y0": y0, "y1": y1, "sprite": None, "table": None}
    if content.image_shape is not None:
        grid["sprite"] = sprite_sheet(np.clip(_images(samples, content.image_shape, _unit_range(content.X)), 0, 1),
                                      size * size)
    else:
        grid["table"] = _table(samples, content.feature_names or [f"x{i + 1}" for i in range(samples.shape[1])])
    return grid


def script_json(value) -> Markup:
    """``value`` as JSON safe inside a ``<script>`` element: ``<``, ``>`` and ``&`` written as ``\\u003c``...,
    so no string in the data (a column named ``<!--<script>`` or ``</script>``) can end or comment out the
    element; JSON.parse reads them back unchanged."""
    text = json.dumps(value, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def explorer_html(content: ReportContent, element_id: str = "aekit-explorer", **options) -> str:
    """The explorer as an HTML fragment: its container, its data and its script (all inline)."""
    from .html import macro

    return macro("explorer", element_id, script_json(payload(content, **options)), Markup(script()))
