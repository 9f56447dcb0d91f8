"""``aekit fit-detector TRAIN -o detector.safetensors`` and ``aekit detect MODEL DATA -o scores.csv``."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from . import _dask
from ._common import (add_data_argument, add_data_dir_option, add_force_option, add_json_option, add_model_argument,
                      add_quiet_option, check_output_path, is_stdio, load_model, model_input, print_summary,
                      read_data, write_csv)
from ._progress import progress_apply
from ._stream import open_stream

#: how the detector's default autoencoder sizes what depends on the data (applications/anomaly.py)
SIZED_BY_DATA = {"latent_dim": "k = max(2, n_features // 4)", "hidden": "one layer of max(2 k, min(64, n_features))",
                 "batch_size": "n_samples / 16, within [32, 256]"}


def detector_defaults() -> dict:
    """The detector's true defaults: its default autoencoder's settings, read from the code at two sizes of
    data; those that differ depend on the data and are described by :data:`SIZED_BY_DATA`."""
    from .. import AnomalyDetector
    from ..applications.anomaly import default_autoencoder

    small, large = (default_autoencoder(f, n).get_params() for f, n in ((8, 64), (400, 40000)))
    out = {k: (v if large[k] == v else SIZED_BY_DATA.get(k, "sized for the data")) for k, v in small.items()}
    return {**out, **AnomalyDetector().get_params()}


def register(sub) -> None:
    from ..applications.anomaly import SCORES
    from . import train

    defaults = detector_defaults()
    f = sub.add_parser(
        "fit-detector", help="train an anomaly detector on (mostly normal) data",
        description="Fit an aekit.AnomalyDetector on TRAIN and save it. It trains one "
                    "tabular autoencoder sized for the data (aekit.applications.default_autoencoder); any option "
                    "below replaces that setting. "
                    "Use the file with 'aekit detect'.")
    add_data_argument(f, metavar="TRAIN", help="built-in dataset name or data file (mostly normal samples)")
    f.add_argument("-o", "--output", required=True, type=Path, help="detector file to write (.safetensors)")
    f.add_argument("--force", action="store_true", help="replace an existing detector file")
    add_data_dir_option(f)
    add_quiet_option(f)
    d = f.add_argument_group("detector (aekit.AnomalyDetector parameters)")
    d.add_argument("--contamination", type=float, default=None,
                   help=f"expected fraction of outliers (default: {defaults['contamination']})")
    d.add_argument("--alpha", type=float, default=None,
                   help="target false-alarm rate; flags samples with conformal p-value <= alpha (replaces "
                        "--contamination)")
    d.add_argument("--calibration-fraction", type=float, default=None,
                   help="share of TRAIN held out to calibrate the threshold and p-values "
                        f"(default: {defaults['calibration_fraction']})")
    d.add_argument("--anomaly-score", default=None, choices=("auto",) + tuple(SCORES),
                   help=f"what the score measures (default: {defaults['anomaly_score']})")
    a = f.add_argument_group("autoencoder (aekit.AutoEncoder parameters; default: sized for the data)")
    d.add_argument("--seed", "--random-state", dest="random_state", type=int, default=None,
                   help="random seed for reproducible runs (default: a fresh seed each run)")
    train.add_estimator_flags(a, defaults, skip=("random_state",))
    f.set_defaults(func=run_fit)

    p = sub.add_parser(
        "detect", help="score DATA with an anomaly detector: score, p-value, label, top features",
        description="Score every sample of DATA with a detector made by 'aekit fit-detector'. Writes a CSV with "
                    "one row per sample: anomaly_score (higher = more anomalous), pvalue (conformal; small = "
                    "unusual), label (-1 outlier, 1 inlier, scikit-learn's convention; PyOD's is 1 / 0) and, for "
                    "flagged samples, the features with the largest share of the reconstruction error.")
    add_model_argument(p, help="detector file written by aekit fit-detector")
    add_data_argument(p)
    p.add_argument("-o", "--output", required=True, type=Path, help="scores file (.csv); - writes it to stdout")
    p.add_argument("--top", type=int, default=3, help="features listed per flagged sample (default: %(default)s)")
    add_data_dir_option(p)
    add_force_option(p, "replace the scores file if it exists")
    add_quiet_option(p)
    add_json_option(p, "the summary (samples, flagged, threshold, file written)")
    _dask.add_dask_option(p)
    p.set_defaults(func=run_detect)


def run_fit(args) -> None:
    from .. import AnomalyDetector
    from ..applications.anomaly import default_autoencoder
    from .train import estimator_params

    check_output_path(args.output, args.force)
    dataset = read_data(args)
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
    print_summary(args, {}, f"fitted an anomaly detector on {args.data} {dataset.X.shape} ({det.n_calibration_} "
                            f"samples held out for calibration; threshold by {rule}); wrote {args.output}")


def run_detect(args) -> None:
    if args.dask:
        return _dask.run(args, "detect", unsupported=("data_dir",))
    if args.top < 0:
        raise ValueError(f"--top must be 0 or more, got {args.top}")
    check_output_path(args.output, args.force, (".csv",))
    det = load_model(args.model, "AnomalyDetector", "aekit detect")
    header = ["sample", "anomaly_score", "pvalue", "label", "top_features"]
    source = open_stream(args.data)
    if source is not None:  # too large for memory: chunk by chunk, rows written as they go
        n, flagged = _detect_stream(det, source, args.output, header, args.top, args.force, args.quiet)
    else:
        dataset = read_data(args)
        X = model_input(dataset, det)  # flat rows, or images for a convolutional detector
        scores = progress_apply(args.quiet)(det.score_samples, X, "scoring")
        rows = detect_rows(det, X, 0, args.top, scores)
        _write(args.output, header, rows, args.force)
        n, flagged = len(X), sum(1 for r in rows if r[3] == -1)
    summary = {"samples": n, "flagged": flagged, "fraction": flagged / n if n else 0.0,
               "threshold": float(det.threshold_), "output": str(args.output)}
    print_summary(args, summary, f"flagged {flagged} of {n} samples ({summary['fraction']:.1%}) as outliers; "
                                 f"wrote {args.output}", args.output)


def detect_rows(det, X, offset: int, top: int, scores=None) -> list:
    """One CSV row per sample of ``X``: index, anomaly score, p-value, label, top features if flagged.
    ``scores`` (``det.score_samples(X)``) when already computed: each sample is scored once."""
    scores = det.score_samples(X) if scores is None else scores
    labels = np.where(scores < det.offset_, -1, 1)
    pvalues = det.pvalues_of_scores(-scores) if det.n_calibration_ else np.full(len(X), np.nan)
    flagged = np.flatnonzero(labels == -1)
    tops = dict(zip(flagged, det.top_features(X[flagged], k=top))) if len(flagged) and top else {}
    rows = []
    for i in range(len(X)):
        features = "; ".join(f"{name} ({share:.0%})" for name, share in tops.get(i, []))
        rows.append([offset + i, float(-scores[i]), "" if np.isnan(pvalues[i]) else float(pvalues[i]),
                     int(labels[i]), features])
    return rows


def _detect_stream(det, source, path: Path, header, top: int, force: bool, quiet: bool = False) -> tuple:
    import csv

    from .._atomic import atomic_path
    from ._common import csv_cells
    from ._progress import Progress

    n, flagged, progress = 0, 0, Progress(source.n_rows, "detect", quiet)
    try:
        with atomic_path(path, overwrite=force) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(csv_cells(header))
            for chunk in source.chunks():
                rows = detect_rows(det, chunk, n, top)
                writer.writerows(csv_cells(row) for row in rows)
                n, flagged = n + len(chunk), flagged + sum(1 for r in rows if r[3] == -1)
                progress.update(len(chunk))
    finally:
        progress.close()
    return n, flagged


def _write(path: Path, header, rows, force: bool) -> None:
    from .._atomic import atomic_path

    if is_stdio(path):
        return write_csv(sys.stdout, header, rows)
    with atomic_path(path, overwrite=force) as tmp:
        write_csv(tmp, header, rows)
