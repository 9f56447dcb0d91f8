"""What several subcommands share: reading data for a model, writing outputs, parsing lists.

``-`` as DATA reads a CSV table from stdin; ``-o -`` writes CSV to stdout, and the subcommand's own lines
then go to stderr (:func:`summary_stream`), so that ``cat x.csv | aekit encode MODEL - -o - | ...`` works.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import sys
import tempfile
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


STDIO = "-"


def is_stdio(path) -> bool:
    """True for ``-``: stdin as DATA, stdout as an output."""
    return path is not None and str(path) == STDIO


def add_quiet_option(parser) -> None:
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress and no summary")


def add_json_option(parser, what: str = "the summary") -> None:
    parser.add_argument("--json", action="store_true", help=f"print {what} as one JSON object")


def read_data(args):
    """The dataset named by ``args.data``: a built-in name, a file, or ``-`` for a CSV table on stdin."""
    from ..datasets import load_dataset

    if not is_stdio(args.data):
        return load_dataset(args.data, data_dir=getattr(args, "data_dir", None))
    with tempfile.TemporaryDirectory(prefix="aekit-stdin-") as tmp:
        path = Path(tmp) / "stdin.csv"
        with open(path, "wb") as f:
            shutil.copyfileobj(sys.stdin.buffer, f)
        try:
            dataset = load_dataset(path)
        except DataError as e:  # name stdin, not the temporary file
            raise DataError(str(e).replace(repr(str(path)), "stdin").replace(str(path), "stdin")) from None
    dataset.name = "stdin"
    return dataset


def summary_stream(*outputs):
    """Where a subcommand's summary goes: stdout, unless stdout carries the data (``-o -``)."""
    return sys.stderr if any(is_stdio(o) for o in outputs) else sys.stdout


def print_summary(args, summary: dict, lines, *outputs) -> None:
    """``--json``: ``summary`` as one JSON object; otherwise the ``lines`` unless ``--quiet``."""
    stream = summary_stream(*outputs)
    if getattr(args, "json", False):
        print(json.dumps(summary), file=stream, flush=True)
    elif not getattr(args, "quiet", False):
        print("\n".join([lines] if isinstance(lines, str) else lines), file=stream, flush=True)


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
    """Write ``array`` as .npy or .csv (by extension), atomically; ``-`` writes CSV to stdout."""
    path = Path(path)
    if is_stdio(path):
        flat = array.reshape(len(array), -1)
        write_csv(sys.stdout, _column_names(flat, column_prefix, columns), flat)
        return path
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
            write_csv(tmp, _column_names(flat, column_prefix, columns), flat)
    return path


def _column_names(flat: np.ndarray, prefix: str, columns) -> list:
    return list(columns) if columns is not None else [f"{prefix}{i + 1}" for i in range(flat.shape[1])]


def write_csv(target, header, rows) -> None:
    """CSV rows (floats to 7 significant digits) to a file path, or to a text stream such as stdout."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([f"{v:.7g}" if isinstance(v, (float, np.floating)) else v for v in row])
    if hasattr(target, "write"):
        target.write(buf.getvalue())
        target.flush()
    else:
        Path(target).write_text(buf.getvalue())
