"""What several subcommands share: reading data for a model, checking and writing outputs, parsing lists.

Every subcommand checks its output paths with :func:`check_output_path` before any work (the folder exists,
the name is not a folder, the extension is one it writes, and the file does not exist unless ``--force``),
loads its model with :func:`load_model` naming the kind it needs, and writes through :func:`written_or_removed`
so that a failure halfway leaves none of its outputs behind.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
from pathlib import Path

import numpy as np

from .._atomic import atomic_path
from ..exceptions import DataError, ModelFileError

#: what each kind of model file is made by, for the message when a command gets the other kind
MADE_BY = {"AutoEncoder": "aekit train", "AnomalyDetector": "aekit fit-detector"}
ARRAY_SUFFIXES = (".npy", ".csv")
PLOT_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


def int_tuple(text: str) -> tuple:
    """'128,64' -> (128, 64); '' or 'none' -> ()."""
    if text.strip().lower() in ("", "none", "()"):
        return ()
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 128,64, got {text!r}") from None


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


def add_force_option(parser, help: str = "replace output files that already exist") -> None:
    parser.add_argument("--force", action="store_true", help=help)


def check_output_path(path, force: bool, suffixes=None, option: str = "-o"):
    """Refuse an output before any work: a folder, a missing folder, an unknown extension, or (without
    ``force``) a file that already exists. ``None`` (an option not given) passes. Returns ``path``."""
    if path is None:
        return None
    path = Path(path)
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise DataError(f"cannot write {option} {str(path)!r}: use a file name ending in {' or '.join(suffixes)}")
    if path.is_dir():
        raise DataError(f"cannot write {option} {str(path)!r}: it is a folder; give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise DataError(f"cannot write {option} {str(path)!r}: the folder {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DataError(f"cannot write {option} {str(path)!r}: the folder {str(parent)!r} is not writable")
    if path.exists() and not force:
        raise DataError(f"{str(path)!r} already exists; pass --force to replace it, or choose another {option}")
    return path


def load_model(path, needs: str = "AutoEncoder", command: str = "this command"):
    """The model in ``path`` after checking, from its header alone, that it is a ``needs`` (class name)."""
    from .. import load
    from ..persistence import read_header

    found = read_header(path).get("class")
    if found != needs:
        raise ModelFileError(f"{str(path)!r} holds an {found}, but {command} needs an {needs}; make one with "
                             f"{MADE_BY.get(needs, 'aekit')}")
    return load(path)


@contextlib.contextmanager
def written_or_removed():
    """Yield a list; files appended to it (as they are written) are removed again if the block fails."""
    written: list = []
    try:
        yield written
    except BaseException:
        for path in written:
            with contextlib.suppress(OSError):
                os.unlink(path)
        raise


def write_array(path, array: np.ndarray, column_prefix: str = "x", columns=None, force: bool = False) -> Path:
    """Write ``array`` as .npy or .csv (by extension), atomically; an existing file only with ``force``."""
    path = Path(path)
    check_output_path(path, force, ARRAY_SUFFIXES)
    suffix = path.suffix.lower()
    with atomic_path(path, overwrite=force) as tmp:
        if suffix == ".npy":
            with open(tmp, "wb") as f:
                np.save(f, array)
        else:
            flat = array.reshape(len(array), -1)
            names = list(columns) if columns is not None else [f"{column_prefix}{i + 1}" for i in range(flat.shape[1])]
            write_csv(tmp, names, flat)
    return path


#: a text cell starting with one of these is a formula to a spreadsheet (OWASP's CSV injection list)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(cell: str) -> str:
    """A text cell made inert for spreadsheets: one starting like a formula gets a leading apostrophe."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _cell(v):
    if isinstance(v, (float, np.floating)):
        return f"{v:.7g}"
    return csv_text(v) if isinstance(v, str) else v


def write_csv(path, header, rows) -> None:
    """Write a CSV table; numbers with 7 significant digits, text cells escaped against formula injection."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([_cell(h) for h in header])
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    Path(path).write_text(buf.getvalue())
