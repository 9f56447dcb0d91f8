"""What several subcommands share: reading data for a model, writing outputs, parsing lists."""
from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

import numpy as np

from .._atomic import atomic_path
from ..exceptions import DataError


def int_tuple(text: str) -> tuple:
    """'128,64' -> (128, 64); '' or 'none' -> ()."""
    if text.strip().lower() in ("", "none", "()"):
        return ()
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 128,64, got {text!r}") from None


def int_or_auto(text: str):
    """'auto' or a positive integer, as ``epochs`` takes."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or 'auto', got {text!r}") from None


def add_model_argument(parser, help: str = "model file written by aekit train") -> None:
    parser.add_argument("model", metavar="MODEL", type=Path, help=help)


def add_data_argument(parser, metavar: str = "DATA", help: str = "built-in dataset name or data file") -> None:
    parser.add_argument("data", metavar=metavar, help=help)


def add_data_dir_option(parser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                        help="folder holding the files of a built-in dataset")


def model_input(dataset, model) -> np.ndarray:
    """The dataset's samples in the shape the fitted model takes (flat vectors, or images)."""
    shape = tuple(model.input_shape_)
    if len(shape) == 1:
        return dataset.X
    if dataset.image_shape is None or int(np.prod(dataset.image_shape)) != int(np.prod(shape)):
        raise DataError(f"the model takes images of shape {shape}, but the data are not images of that size")
    return dataset.X.reshape((len(dataset.X),) + shape)


def load_model(path):
    from .. import load

    return load(path)


def write_array(path, array: np.ndarray, column_prefix: str = "x", columns=None) -> Path:
    """Write ``array`` as .npy or .csv (by extension), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".csv"):
        raise DataError(f"cannot write {str(path)!r}: use a .npy or .csv file name")
    if not path.parent.exists():
        raise DataError(f"cannot write {str(path)!r}: the folder {str(path.parent)!r} does not exist")
    with atomic_path(path) as tmp:
        if suffix == ".npy":
            with open(tmp, "wb") as f:
                np.save(f, array)
        else:
            flat = array.reshape(len(array), -1)
            names = list(columns) if columns is not None else [f"{column_prefix}{i + 1}" for i in range(flat.shape[1])]
            write_csv(tmp, names, flat)
    return path


def write_csv(path, header, rows) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([f"{v:.7g}" if isinstance(v, (float, np.floating)) else v for v in row])
    Path(path).write_text(buf.getvalue())
