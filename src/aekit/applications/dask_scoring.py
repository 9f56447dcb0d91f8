"""Encode, reconstruct and score a Dask DataFrame or a Parquet folder with a saved model, on a Dask cluster.

The task graph carries only the model file's path and plain arguments (column names, the input shape): no
torch object is pickled. Each worker process loads the file the first time one of its tasks needs it and
keeps it (a per-process cache keyed by path, size and modification time), so a job of many partitions
loads the model once per worker. The file must therefore be readable at the same path on every worker
(shared storage, or the same file copied to each machine), and the workers need aekit installed.

>>> from aekit.applications.dask_scoring import connect, map_model, write_parquet  # doctest: +SKIP
>>> with connect("local:2"):                                                     # doctest: +SKIP
...     codes = map_model("model.safetensors", "data/", "encode")                  # a lazy Dask DataFrame
...     write_parquet(codes, "codes/")                                            # part-000000.parquet, ...

Outputs, one row per input row, in input order, with the input's index:

- ``encode``: ``z1 .. zk`` (float32), as :meth:`aekit.AutoEncoder.transform`;
- ``reconstruct``: the input columns (float32), as :meth:`aekit.AutoEncoder.predict`;
- ``score``: ``score`` (float64), ``score_samples`` of an autoencoder or a detector (higher = more normal);
- ``detect`` (an :class:`aekit.AnomalyDetector` only): ``anomaly_score`` (minus ``score_samples``), ``pvalue``
  (NaN when the detector has no calibration scores) and ``label`` (-1 outlier, 1 inlier), as ``aekit detect``.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import threading
import uuid
from pathlib import Path

import numpy as np

from ..exceptions import AekitError, DataError, ModelFileError

__all__ = ["ClusterError", "WHATS", "check_new_folder", "connect", "map_model", "worker_stats", "write_parquet"]

#: what ``map_model`` can compute
WHATS = ("encode", "reconstruct", "score", "detect")
PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")

# Per worker process: the loaded models, and what this process did (for tests and for people checking).
_MODELS: dict = {}
_LOCK = threading.Lock()
_STATS = {"loads": 0, "partitions": 0}


class ClusterError(AekitError, ConnectionError):
    """A Dask scheduler that cannot be reached."""


def _dask():
    try:
        import dask.dataframe as dd
        import distributed  # noqa: F401  (the extra installs both; fail early and in one place)
    except ImportError as e:
        raise AekitError(f"scoring on Dask needs dask and distributed ({e}): pip install 'aekit[dask]'") from e
    return dd


# -- the cluster ------------------------------------------------------------------------------------------
@contextlib.contextmanager
def connect(address: str, timeout: float = 10.0):
    """A ``distributed.Client`` for ``address``, closed (with its cluster) on exit.

    ``'local:N'`` starts a LocalCluster of N worker processes with one thread each on this machine;
    ``'tcp://host:port'`` (or ``tls://``) connects to a running scheduler (``dask scheduler``), waiting at most
    ``timeout`` seconds. Distributed's own log lines below ERROR are held back meanwhile.
    """
    _dask()
    text = str(address).strip()
    local = re.fullmatch(r"local:(\d+)", text)
    if local and int(local.group(1)) < 1:
        raise ValueError(f"local:N needs at least one worker, got {address!r}; e.g. local:2")
    if not local and not re.fullmatch(r"(tcp|tls)://[^\s/:]+:\d+", text):
        raise ValueError(f"a Dask scheduler is 'local:N' or 'tcp://host:port', got {address!r}; "
                         "e.g. local:2 or tcp://scheduler:8786")
    logger = logging.getLogger("distributed")
    level = logger.level
    logger.setLevel(logging.ERROR)  # a library's caller decides what is shown: scheduler chatter is not for them
    try:
        with (_local_client(int(local.group(1))) if local else _remote_client(text, timeout)) as client:
            yield client
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def _local_client(n: int):
    from distributed import Client, LocalCluster

    try:
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                               silence_logs=logging.CRITICAL)
    except RuntimeError as e:  # a worker process that could not start: most often a script without a main guard
        raise ClusterError(f"could not start a local Dask cluster of {n} workers: {e}; in a script, start it "
                           "under 'if __name__ == \"__main__\":' (the workers re-import the main module)") from e
    with cluster, Client(cluster) as client:
        yield client


@contextlib.contextmanager
def _remote_client(address: str, timeout: float):
    from distributed import Client

    try:
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError) as e:
        raise ClusterError(f"could not reach the Dask scheduler at {address!r} within {timeout:g} s: {e}; start "
                           "one with 'dask scheduler' (and 'dask worker ADDRESS'), or use local:N") from e
    with client:
        yield client


# -- the job ----------------------------------------------------------------------------------------------
def map_model(model_path, data, what: str = "encode", columns=None):
    """The outputs of the model at ``model_path`` for every row of ``data``, as a lazy Dask DataFrame.

    Parameters
    ----------
    model_path : str or Path
        A file written by ``AutoEncoder.save`` / ``AnomalyDetector.save``, readable at this path on every worker.
        It is also loaded here once, to check it and the columns before any task runs.
    data : dask.dataframe.DataFrame, or str / Path of a Parquet folder or file
        One sample per row. A model trained on named columns takes those columns (the others are ignored);
        one trained on an array takes all columns, in order, or ``columns``.
    what : {'encode', 'reconstruct', 'score', 'detect'}
        See the module docstring for the columns of each.
    columns : list of str, optional
        The input columns, in the model's feature order, when the model file stores no names (or other ones).

    Returns
    -------
    dask.dataframe.DataFrame, one partition per input partition, computed when written or ``.compute()``-d.
    """
    from .. import load

    dd = _dask()
    model = load(model_path)
    _check_what(model, what, model_path)
    frame = _as_frame(dd, data)
    selected = _input_columns(model, frame, columns)
    meta = _output_frame(what, _output_columns(model, what, selected), np.zeros((0, len(selected))), None)
    return frame[selected].map_partitions(
        _apply, str(Path(model_path).expanduser().absolute()), what, tuple(model.input_shape_), meta,
        meta=meta, align_dataframes=False)


def _check_what(model, what: str, path) -> None:
    from .. import AnomalyDetector, AutoEncoder

    if what not in WHATS:
        raise ValueError(f"what must be one of {', '.join(WHATS)}, got {what!r}")
    if what == "detect" and not isinstance(model, AnomalyDetector):
        raise ModelFileError(f"{str(path)!r} holds an {type(model).__name__}, not an anomaly detector; make one with "
                             "'aekit fit-detector TRAIN -o detector.safetensors', or use what='score'")
    if what in ("encode", "reconstruct") and not isinstance(model, AutoEncoder):
        raise ModelFileError(f"{str(path)!r} holds an {type(model).__name__}, not an autoencoder; {what} takes a "
                             "model from 'aekit train' (score a detector with what='detect' or 'score')")


def _as_frame(dd, data):
    if isinstance(data, dd.DataFrame):
        return data
    if not isinstance(data, (str, os.PathLike)):
        raise TypeError(f"data must be a dask DataFrame or the path of a Parquet folder, got "
                        f"{type(data).__name__}; wrap a pandas DataFrame with dask.dataframe.from_pandas(df, "
                        "npartitions=...)")
    path = Path(data).expanduser()
    if not path.exists():
        raise DataError(f"no such Parquet folder or file: {str(path)!r}")
    files = [path] if path.is_file() else (p for p in path.rglob("*") if p.is_file())
    if not any(p.suffix.lower() in PARQUET_SUFFIXES for p in files):
        raise DataError(f"{str(path)!r} is not a Parquet folder: it holds no {'/'.join(PARQUET_SUFFIXES)} files; "
                        "write one with DataFrame.to_parquet(folder)")
    try:
        return dd.read_parquet(str(path))
    except Exception as e:  # pyarrow / fsspec raise their own families on foreign or corrupt files
        raise DataError(f"could not read {str(path)!r} as Parquet: {e}") from e


def _input_columns(model, frame, columns) -> list:
    """The columns the model takes, in its feature order; DataError naming what is missing or not numeric."""
    have = [str(c) for c in frame.columns]
    if columns is not None:
        wanted = [str(c) for c in columns]
    elif hasattr(model, "feature_names_in_"):
        wanted = [str(c) for c in model.feature_names_in_]
    elif len(have) == model.n_features_in_:
        wanted = have
    else:
        raise DataError(f"the model was trained on {model.n_features_in_} unnamed features, but the data have "
                        f"{len(have)} columns; pass columns=[...] (the model's inputs, in order)")
    if len(wanted) != model.n_features_in_:
        raise DataError(f"columns names {len(wanted)} columns, but the model takes {model.n_features_in_} features")
    missing = [c for c in wanted if c not in have]
    if missing:
        shown = ", ".join(repr(c) for c in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise DataError(f"the data lack {len(missing)} of the model's {len(wanted)} columns: {shown}; the data have "
                        f"{', '.join(repr(c) for c in have[:8])}{' ...' if len(have) > 8 else ''}. Rename the "
                        "columns, or pass columns=[...] in the model's feature order")
    dtypes = dict(zip(have, frame.dtypes))
    bad = [c for c in wanted if getattr(dtypes[c], "kind", "O") not in "biuf"]
    if bad:
        raise DataError(f"column {bad[0]!r} holds {dtypes[bad[0]]} values, which are not numbers; aekit takes "
                        "numeric columns only: drop or encode it")
    return [frame.columns[have.index(c)] for c in wanted]


def _output_columns(model, what: str, inputs: list) -> list:
    if what == "encode":
        return [f"z{i + 1}" for i in range(model.model_.config.latent_dim)]
    if what == "reconstruct":
        return list(inputs)
    return ["score"] if what == "score" else ["anomaly_score", "pvalue", "label"]


def _output_frame(what: str, names: list, values, index):
    """One partition's result (or, with no rows, the meta Dask plans with): the same dtypes either way."""
    import pandas as pd

    if what in ("encode", "reconstruct"):
        return pd.DataFrame(np.asarray(values, dtype=np.float32).reshape(len(values), len(names)), columns=names,
                            index=index)
    if what == "score":
        return pd.DataFrame({"score": np.asarray(values, dtype=np.float64).reshape(-1)}, index=index)
    scores, pvalues, labels = values.T if len(values) else (np.zeros(0),) * 3
    return pd.DataFrame({"anomaly_score": np.asarray(scores, dtype=np.float64),
                         "pvalue": np.asarray(pvalues, dtype=np.float64),
                         "label": np.asarray(labels, dtype=np.int64)}, index=index)


# -- on the workers ---------------------------------------------------------------------------------------
def _apply(part, path: str, what: str, input_shape: tuple, meta, partition_info=None):
    """Run on a worker for one partition (a pandas DataFrame of the model's columns, in order)."""
    if len(part) == 0:
        return meta
    model = _cached_model(path)
    X = part.to_numpy(dtype=np.float32).reshape((len(part),) + tuple(input_shape))
    with _LOCK:
        _STATS["partitions"] += 1
    try:
        values = _compute(model, what, X)
    except DataError as e:  # its row numbers count within the partition: say which one
        number = (partition_info or {}).get("number")
        where = f"partition {number} (output {part_name(number)}): " if number is not None else ""
        raise DataError(f"{where}{e}") from e
    return _output_frame(what, list(meta.columns), values, part.index)


def _compute(model, what: str, X: np.ndarray) -> np.ndarray:
    if what == "encode":
        return model.transform(X)
    if what == "reconstruct":
        return model.predict(X)
    scores = np.asarray(model.score_samples(X), dtype=np.float64)
    if what == "score":
        return scores
    pvalues = model.pvalues(X) if model.n_calibration_ else np.full(len(X), np.nan)
    return np.column_stack([-scores, pvalues, model.predict(X)])


def _cached_model(path: str):
    """The model at ``path``, loaded once per process (again only if the file changed)."""
    from .. import load

    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns)
    with _LOCK:
        if key not in _MODELS:
            for old in [k for k in _MODELS if k[0] == path]:
                del _MODELS[old]
            _MODELS[key] = load(path)
            _STATS["loads"] += 1
        return _MODELS[key]


def worker_stats() -> dict:
    """What this process has done: ``loads`` (model files read) and ``partitions`` (scored). On a cluster:
    ``client.run(worker_stats)`` gives one dict per worker."""
    with _LOCK:
        return dict(_STATS)


# -- writing ----------------------------------------------------------------------------------------------
def part_name(i: int) -> str:
    """File name of output partition ``i``: zero-padded, so the folder's name order is the input order."""
    return f"part-{i:06d}.parquet"


def check_new_folder(folder) -> Path:
    """``folder`` as a Path, if it can take the output: new or empty, in a folder that exists."""
    folder = Path(folder).expanduser()
    if not folder.parent.exists():
        raise DataError(f"cannot write {str(folder)!r}: the folder {str(folder.parent)!r} does not exist")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise DataError(f"cannot write into {str(folder)!r}: it is {'a file' if folder.is_file() else 'not empty'}; "
                        "give a new or empty output folder")
    return folder


def write_parquet(result, folder) -> list:
    """Write ``result`` (a Dask DataFrame) as one Parquet file per partition into the new folder ``folder``.

    The files are written into a hidden folder beside it and renamed into place at the end, so a failed
    job leaves no partial output. ``folder`` must not hold files yet; on a cluster it must be on storage
    that this machine and the workers share. The index is written only when it has a name. Returns the
    paths, in order.
    """
    folder = check_new_folder(folder)
    tmp = folder.parent / f".{folder.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        result.to_parquet(str(tmp), name_function=part_name, write_index=result.index.name is not None,
                          write_metadata_file=False)
        if folder.exists():
            folder.rmdir()
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return sorted(folder.glob("part-*.parquet"))
