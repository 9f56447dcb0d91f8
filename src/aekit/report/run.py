"""Run folders as ``aekit train`` leaves them: ``model.safetensors``, ``history.csv`` and ``run.json``.

``run.json`` records where the data came from (a built-in dataset name or an absolute file path, and the
``--data-dir``), so that ``aekit report RUN_DIR`` can evaluate the model again later. A fitted anomaly
detector saved as ``detector.safetensors`` beside the model is picked up for the threshold.

A run folder may come from someone else, so nothing in it makes aekit read a file outside it: ``run.json``'s
data path and data folder are followed only when they lie inside the run folder (a built-in dataset name
is always fine, read from the user's own data folders), and the model and detector files must resolve
inside it too. Anything else needs the data passed explicitly (``--data``, ``--data-dir``).
"""
from __future__ import annotations

import datetime
import json
import logging
import os
from pathlib import Path
from typing import Optional

from ..exceptions import DataError

logger = logging.getLogger(__name__)

RUN_FILE = "run.json"
MODEL_FILE = "model.safetensors"
DETECTOR_FILE = "detector.safetensors"
REPORT_FILE = "report.html"
RUN_FORMAT = 1


def write_run_info(run_dir, data, data_dir=None) -> Path:
    """Write ``run.json``: the data a run was trained on, so that its report can be rebuilt later.

    Without ``data_dir``, ``$AEKIT_DATA`` (where built-in datasets were looked for) is recorded in its place.
    """
    from .. import __version__
    from .._atomic import atomic_path
    from ..data.datasets import BUILTIN_DATASETS

    data_dir = data_dir if data_dir is not None else (os.environ.get("AEKIT_DATA") or None)
    key = str(data).strip().lower().replace("_", "-")
    source = key if key in BUILTIN_DATASETS else None if str(data) == "-" else str(Path(data).expanduser().resolve())
    info = {"format_version": RUN_FORMAT, "data": source,
            "data_dir": None if data_dir is None else str(Path(data_dir).expanduser().resolve()),
            "model": MODEL_FILE, "written_by": f"aekit {__version__}",
            "written_at": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}
    path = Path(run_dir) / RUN_FILE
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return path


def read_run_info(run_dir) -> dict:
    """The contents of ``run_dir/run.json``; an empty dict when the folder has none."""
    path = Path(run_dir) / RUN_FILE
    if not path.is_file():
        return {}
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{str(path)!r} is not valid JSON ({e}); delete it and pass the data with --data") from e
    if not isinstance(info, dict) or info.get("format_version", 0) > RUN_FORMAT:
        raise DataError(f"{str(path)!r} was written by a newer aekit or is not a run file; pass the data with --data")
    return info


def _inside(run_dir: Path, path) -> bool:
    """True when ``path`` (links resolved) lies inside ``run_dir``."""
    return Path(path).resolve().is_relative_to(Path(run_dir).resolve())


def _recorded_data(run_dir: Path, info: dict) -> tuple:
    """``(data, data_dir)`` from ``run.json``, each kept only where it cannot lead outside the run folder."""
    from ..data.datasets import BUILTIN_DATASETS

    data, data_dir = info.get("data"), info.get("data_dir")
    if data is not None and not isinstance(data, str):
        raise DataError(f"{str(run_dir / RUN_FILE)!r} names its data as {data!r}, not a dataset name or a path; "
                        "pass the data with --data")
    if data is not None and data not in BUILTIN_DATASETS and not _inside(run_dir, data):
        raise DataError(f"{str(run_dir / RUN_FILE)!r} names data outside the run folder ({data!r}); a run folder "
                        "never makes aekit read files outside it: pass the data explicitly with --data")
    keep_dir = isinstance(data_dir, str) and _inside(run_dir, data_dir)
    return data, data_dir if keep_dir else None


def _run_file(run_dir: Path, name: str) -> Path:
    path = run_dir / name
    if path.exists() and not _inside(run_dir, path):
        raise DataError(f"{str(path)!r} links to a file outside the run folder; aekit reads only the run folder's "
                        "own files: pass that file explicitly")
    return path


def split_detector(model):
    """``(autoencoder, detector)`` from a loaded model: a detector (it has ``threshold_``) wraps an autoencoder."""
    if not hasattr(model, "threshold_"):
        return model, None
    for name in ("estimator_", "autoencoder_"):
        inner = getattr(model, name, None)
        if inner is not None and hasattr(inner, "transform"):
            return inner, model
    if hasattr(model, "transform") and hasattr(model, "reconstruction_error"):
        return model, model
    raise DataError(f"the model is a {type(model).__name__} whose autoencoder could not be found for the report")


def report_for_run(run_dir, output=None, *, data=None, data_dir=None, estimator=None, dataset=None,
                   detector=None, apply=None, **options) -> Path:
    """Write the report of the run in ``run_dir`` (default ``run_dir/report.html``); returns its path.

    ``estimator`` and ``dataset`` skip re-reading them when the caller has them (``aekit train`` does);
    ``data`` / ``data_dir`` override what ``run.json`` says.
    """
    from .. import __version__
    from ..persistence import load
    from . import build_report, write_report

    run_dir = Path(run_dir)
    if run_dir.is_file():  # a model file: its folder is the run
        model_path, run_dir = run_dir, run_dir.parent
    else:
        model_path = _run_file(run_dir, MODEL_FILE)
    if estimator is None:
        estimator, detector_in_model = split_detector(load(model_path))
        detector = detector or detector_in_model
    if detector is None and _run_file(run_dir, DETECTOR_FILE).is_file():
        detector = split_detector(load(run_dir / DETECTOR_FILE))[1]
    if data is not None or dataset is not None:  # the caller's own data: run.json is not consulted for it
        source = data
    else:
        source, recorded_dir = _recorded_data(run_dir, read_run_info(run_dir))
        data_dir = data_dir or recorded_dir
    if dataset is None:
        if source is None:
            raise DataError(f"{str(run_dir)!r} has no {RUN_FILE} saying which data the model was trained on; "
                            "pass it with --data (a built-in dataset name or a data file)")
        from ..datasets import load_dataset

        dataset = load_dataset(source, data_dir=data_dir)
    held_out = dataset.X_test is not None
    html_text = build_report(
        estimator, dataset.X_test if held_out else dataset.X, dataset.y_test if held_out else dataset.y,
        X_train=dataset.X, detector=detector, image_shape=dataset.image_shape, feature_names=dataset.feature_names,
        target_names=dataset.target_names, dataset_name=dataset.name,
        split_name="test split" if held_out else "training data (no test split)", apply=apply,
        meta=f"run {run_dir.resolve()} · data {source or dataset.name} · written "
             f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M} by aekit {__version__}", **options)
    return write_report(Path(output) if output is not None else run_dir / REPORT_FILE, html_text)
