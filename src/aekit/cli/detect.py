"""``aekit fit-detector TRAIN -o detector.safetensors`` and ``aekit detect MODEL DATA -o scores.csv``."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import _dask
from ._common import (add_data_argument, add_data_dir_option, add_force_option, add_model_argument, check_output_path,
                      load_model, model_input, write_csv)
from ._stream import open_stream


def register(sub) -> None:
    from . import train

    f = sub.add_parser(
        "fit-detector", help="train an anomaly detector on (mostly normal) data",
        description="Fit an aekit.AnomalyDetector on TRAIN and save it. Without autoencoder options it trains the "
                    "detector's default tabular autoencoder; any option below replaces that default's setting. "
                    "Use the file with 'aekit detect'.")
    add_data_argument(f, metavar="TRAIN", help="built-in dataset name or data file (mostly normal samples)")
    f.add_argument("-o", "--output", required=True, type=Path, help="detector file to write (.safetensors)")
    f.add_argument("--force", action="store_true", help="replace an existing detector file")
    add_data_dir_option(f)
    d = f.add_argument_group("detector (aekit.AnomalyDetector parameters)")
    d.add_argument("--contamination", type=float, default=None, help="expected fraction of outliers (default 0.1)")
    d.add_argument("--alpha", type=float, default=None,
                   help="target false-alarm rate; flags samples with conformal p-value <= alpha (replaces "
                        "--contamination)")
    d.add_argument("--calibration-fraction", type=float, default=None,
                   help="share of TRAIN held out to calibrate the threshold and p-values (default 0.2)")
    d.add_argument("--anomaly-score", default=None, help="joint | residual | reconstruction (default joint)")
    a = f.add_argument_group("autoencoder (aekit.AutoEncoder parameters; default: sized for the data)")
    for flags, dest, kind, help_text in train.FLAGS:
        if dest == "random_state":
            d.add_argument(*flags, dest=dest, type=int, default=None, help=help_text)
        elif kind is None:
            a.add_argument(*flags, dest=dest, action="store_true", default=None, help=help_text)
        else:
            a.add_argument(*flags, dest=dest, type=kind, default=None, help=help_text)
    f.set_defaults(func=run_fit)

    p = sub.add_parser(
        "detect", help="score DATA with an anomaly detector: score, p-value, label, top features",
        description="Score every sample of DATA with a detector made by 'aekit fit-detector'. Writes a CSV with "
                    "one row per sample: anomaly_score (higher = more anomalous), pvalue (conformal; small = "
                    "unusual), label (-1 outlier, 1 inlier, scikit-learn's convention; PyOD's is 1 / 0) and, for "
                    "flagged samples, the features with the largest share of the reconstruction error.")
    add_model_argument(p, help="detector file written by aekit fit-detector")
    add_data_argument(p)
    p.add_argument("-o", "--output", required=True, type=Path, help="scores file (.csv)")
    p.add_argument("--top", type=int, default=3, help="features listed per flagged sample (default 3)")
    add_data_dir_option(p)
    add_force_option(p, "replace the scores file if it exists")
    _dask.add_dask_option(p)
    p.set_defaults(func=run_detect)


def run_fit(args) -> None:
    from .. import AnomalyDetector
    from ..applications.anomaly import default_autoencoder
    from ..datasets import load_dataset
    from .train import estimator_params

    check_output_path(args.output, args.force)
    dataset = load_dataset(args.data, data_dir=args.data_dir)
    ae_params = {k: v for k, v in estimator_params(args).items() if k != "random_state"}
    names = ("contamination", "alpha", "calibration_fraction", "anomaly_score", "random_state")
    params = {k: getattr(args, k) for k in names if getattr(args, k) is not None}
    if ae_params:  # the default autoencoder, with the given settings replaced
        fraction = params.get("calibration_fraction", 0.2)
        n_train = len(dataset.X) - int(round(fraction * len(dataset.X)))
        params["autoencoder"] = default_autoencoder(dataset.X.shape[1], n_train,
                                                    random_state=params.get("random_state"), **ae_params)
    det = AnomalyDetector(**params).fit(dataset.X)
    if dataset.feature_names is not None:  # what fit would keep from a DataFrame's columns
        det.feature_names_in_ = np.asarray(dataset.feature_names, dtype=object)
    det.save(args.output, overwrite=args.force)
    rule = f"alpha {det.alpha}" if det.alpha is not None else f"contamination {det.contamination}"
    print(f"fitted an anomaly detector on {args.data} {dataset.X.shape} ({det.n_calibration_} samples held out for "
          f"calibration; threshold by {rule}); wrote {args.output}")


def run_detect(args) -> None:
    from ..datasets import load_dataset

    if args.dask:
        return _dask.run(args, "detect", unsupported=("data_dir",))
    if args.top < 0:
        raise ValueError(f"--top must be 0 or more, got {args.top}")
    check_output_path(args.output, args.force, (".csv",))
    det = load_model(args.model, "AnomalyDetector", "aekit detect")
    header = ["sample", "anomaly_score", "pvalue", "label", "top_features"]
    source = open_stream(args.data)
    if source is not None:  # too large for memory: chunk by chunk, rows written as they go
        n, flagged = _detect_stream(det, source, args.output, header, args.top, args.force)
    else:
        dataset = load_dataset(args.data, data_dir=args.data_dir)
        X = model_input(dataset, det)  # flat rows, or images for a convolutional detector
        rows = detect_rows(det, X, 0, args.top)
        _write(args.output, header, rows, args.force)
        n, flagged = len(X), sum(1 for r in rows if r[3] == -1)
    print(f"flagged {flagged} of {n} samples ({flagged / n:.1%}) as outliers; wrote {args.output}")


def detect_rows(det, X, offset: int, top: int) -> list:
    """One CSV row per sample of ``X``: index, anomaly score, p-value, label, top features if flagged."""
    scores = det.score_samples(X)
    labels = np.where(scores < det.offset_, -1, 1)
    pvalues = det.pvalues(X) if det.n_calibration_ else np.full(len(X), np.nan)
    flagged = np.flatnonzero(labels == -1)
    tops = dict(zip(flagged, det.top_features(X[flagged], k=top))) if len(flagged) and top else {}
    rows = []
    for i in range(len(X)):
        features = "; ".join(f"{name} ({share:.0%})" for name, share in tops.get(i, []))
        rows.append([offset + i, float(-scores[i]), "" if np.isnan(pvalues[i]) else float(pvalues[i]),
                     int(labels[i]), features])
    return rows


def _detect_stream(det, source, path: Path, header, top: int, force: bool) -> tuple:
    import csv

    from .._atomic import atomic_path
    from ._stream import Progress

    n, flagged, progress = 0, 0, Progress(source.n_rows, "detect")
    try:
        with atomic_path(path, overwrite=force) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(header)
            for chunk in source.chunks():
                rows = detect_rows(det, chunk, n, top)
                writer.writerows([f"{v:.7g}" if isinstance(v, float) else v for v in row] for row in rows)
                n, flagged = n + len(chunk), flagged + sum(1 for r in rows if r[3] == -1)
                progress.update(len(chunk))
    finally:
        progress.close()
    return n, flagged


def _write(path: Path, header, rows, force: bool) -> None:
    from .._atomic import atomic_path

    with atomic_path(path, overwrite=force) as tmp:
        write_csv(tmp, header, rows)
