"""What several subcommands share: reading data for a model, checking and writing outputs, parsing lists.

Every subcommand checks its output paths with :func:`check_output_path` before any work (the folder exists,
the name is not a folder, the extension is one it writes, and the file does not exist unless ``--force``),
loads its model with :func:`load_model` naming the kind it needs, and writes through :func:`written_or_removed`
so that a failure halfway leaves none of its outputs behind.

``-`` as DATA reads a CSV table from stdin; ``-o -`` writes CSV to stdout, and the subcommand's own lines
then go to stderr (:func:`summary_stream`), so that ``cat x.csv | aekit encode MODEL - -o - | ...`` works.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import shutil
import sys
import tempfile
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


def add_force_option(parser, help: str = "replace output files that already exist") -> None:
    parser.add_argument("--force", action="store_true", help=help)


def check_output_path(path, force: bool, suffixes=None, option: str = "-o"):
    """Refuse an output before any work: a folder, a missing folder, an unknown extension, or (without
    ``force``) a file that already exists. ``None`` (an option not given) passes. Returns ``path``."""
    if path is None or is_stdio(path):  # None: an option not given; '-': stdout
        return path
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
    if is_stdio(path):
        flat = array.reshape(len(array), -1)
        write_csv(sys.stdout, _column_names(flat, column_prefix, columns), flat)
        return path
    check_output_path(path, force, ARRAY_SUFFIXES)
    suffix = path.suffix.lower()
    with atomic_path(path, overwrite=force) as tmp:
        if suffix == ".npy":
            with open(tmp, "wb") as f:
                np.save(f, array)
        else:
            flat = array.reshape(len(array), -1)
            write_csv(tmp, _column_names(flat, column_prefix, columns), flat)
    return path


def _column_names(flat: np.ndarray, prefix: str, columns) -> list:
    return list(columns) if columns is not None else [f"{prefix}{i + 1}" for i in range(flat.shape[1])]


#: a text cell starting with one of these is a formula to a spreadsheet (OWASP's CSV injection list)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(cell: str) -> str:
    """A text cell made inert for spreadsheets: one starting like a formula gets a leading apostrophe."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _cell(v):
    if isinstance(v, (float, np.floating)):
        return f"{v:.7g}"
    return csv_text(v) if isinstance(v, str) else v


def csv_cells(row) -> list:
    """One CSV row's cells: numbers with 7 significant digits, text escaped against formula injection."""
    return [_cell(v) for v in row]


def write_csv(target, header, rows) -> None:
    """Write a CSV table (:func:`csv_cells`) to a file path or a text stream (stdout)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(csv_cells(header))
    for row in rows:
        writer.writerow(csv_cells(row))
    if hasattr(target, "write"):
        target.write(buf.getvalue())
        target.flush()
    else:
        Path(target).write_text(buf.getvalue())
