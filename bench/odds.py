"""ODDS outlier-detection benchmark: aekit's AnomalyDetector (default settings) against PyOD and scikit-learn.

    .venv/bin/python bench/odds.py --half A              # the 9 sets of half A, seeds 0-4, every method
    .venv/bin/python bench/odds.py --half all            # all 17 sets
    .venv/bin/python bench/odds.py --sets cardio,wbc --seeds 0 --methods aekit,iforest

Protocol (as PyOD's benchmark): each ``.mat`` set from ``../shared/data/odds`` is split 60/40 (stratified
on the label so that every test part holds outliers) with ``random_state=seed``; a StandardScaler fitted on
the training part is applied to both parts; every method is fitted on the training part *without labels*
(outliers included) and scores the test part; ROC-AUC and average precision use the labels (1 = outlier).
The 17 sets fall into two FIXED halves (``HALVES``: every other set in alphabetical order); aekit's
defaults were chosen on half A only (bench/odds_explore.py) and confirmed on half B.

Methods, each with its library's default settings and ``random_state=seed``:

- ``aekit``: ``aekit.AnomalyDetector("ensemble", random_state=seed)`` (the issue-12 ensemble, an option), score ``-score_samples``;
- ``aekit_single``: the default before issue 12, one autoencoder (``default_autoencoder``) with the
  'joint' Mahalanobis score;
- ``pyod_knn`` / ``pyod_ecod`` / ``pyod_copod`` / ``pyod_lof`` / ``pyod_ae`` / ``pyod_vae`` / ``pyod_pca``:
  PyOD's KNN, ECOD, COPOD, LOF, AutoEncoder, VAE and PCA, ``decision_function``; run by this same file as a
  worker inside PyOD's own virtual environment (``bench/.venvs/pyod``, made by ``bench/peers.py``);
- ``iforest``: ``sklearn.ensemble.IsolationForest``, score ``-score_samples``;
- ``pca``: reconstruction error of ``sklearn.decomposition.PCA`` keeping ``max(2, n_features // 4)``
  components.

Every process uses one CPU thread (the benchmark machine is shared). Every result is cached in
``bench/out/odds-cache.json`` (aekit's under a fingerprint of its detector's source, so that a changed
detector is measured again and the peers never are); a report goes to ``bench/out/odds[-HALF].json`` and
its tables to ``.md`` (``--tables`` rewrites them from the .json). This file imports neither aekit nor PyOD
at the top, so the worker runs in PyOD's environment.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
ODDS_DIR = os.path.normpath(os.path.join(REPO, "..", "shared", "data", "odds"))
PYOD_PYTHON = os.path.join(BENCH, ".venvs", "pyod", "bin", "python")
SETS = ("arrhythmia", "cardio", "glass", "ionosphere", "letter", "lympho", "mnist", "musk", "optdigits",
        "pendigits", "pima", "satellite", "satimage-2", "shuttle", "vertebral", "vowels", "wbc")
#: two FIXED halves, every other set in alphabetical order (chosen by that rule before any result was seen):
#: the detector's defaults were chosen on A (bench/odds_explore.py) and only confirmed on B.
HALVES = {"A": SETS[0::2], "B": SETS[1::2], "all": SETS}
LOCAL_METHODS = ("aekit", "aekit_single", "iforest", "pca")
PYOD_METHODS = ("pyod_knn", "pyod_ecod", "pyod_copod", "pyod_lof", "pyod_ae", "pyod_vae", "pyod_pca")
#: the methods aekit is compared with
PEERS = ("aekit_single", "iforest", "pca") + PYOD_METHODS
LABELS = {"aekit": "aekit ensemble", "aekit_single": "aekit default (1 AE)", "pyod_ae": "PyOD AE", "pyod_vae": "PyOD VAE",
          "iforest": "IForest", "pca": "PCA (recon.)", "pyod_pca": "PyOD PCA", "pyod_knn": "kNN", "pyod_ecod": "ECOD",
          "pyod_copod": "COPOD", "pyod_lof": "LOF"}


def one_thread() -> None:
    import torch

    torch.set_num_threads(1)


# ------------------------------------------------------------------------------------------------ data
def load_set(name: str) -> tuple[np.ndarray, np.ndarray]:
    from scipy.io import loadmat

    d = loadmat(os.path.join(ODDS_DIR, f"{name}.mat"))
    return np.asarray(d["X"], dtype=np.float64), np.asarray(d["y"]).ravel().astype(int)


def split(X: np.ndarray, y: np.ndarray, seed: int):
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.4, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr).astype(np.float32), scaler.transform(X_te).astype(np.float32), y_te


# --------------------------------------------------------------------------------------------- methods
def score_local(method: str, X_tr: np.ndarray, X_te: np.ndarray, seed: int) -> np.ndarray:
    """Anomaly scores of ``X_te`` (higher = more abnormal) by an aekit or scikit-learn method."""
    if method == "aekit":
        from aekit import AnomalyDetector

        return -AnomalyDetector("ensemble", random_state=seed).fit(X_tr).score_samples(X_te)
    if method == "aekit_single":  # the default until issue 12: one autoencoder, joint Mahalanobis score
        from aekit import AnomalyDetector
        from aekit.applications.anomaly import default_autoencoder

        n_train = len(X_tr) - int(round(0.2 * len(X_tr)))
        ae = default_autoencoder(X_tr.shape[1], n_train, random_state=seed)
        det = AnomalyDetector(autoencoder=ae, anomaly_score="joint", random_state=seed)
        return -det.fit(X_tr).score_samples(X_te)
    if method == "iforest":
        from sklearn.ensemble import IsolationForest

        return -IsolationForest(random_state=seed, n_jobs=1).fit(X_tr).score_samples(X_te)
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=max(2, X_tr.shape[1] // 4), random_state=seed).fit(X_tr)
        return np.square(pca.inverse_transform(pca.transform(X_te)) - X_te).mean(axis=1)
    raise ValueError(f"unknown method {method!r}")


def score_pyod(method: str, X_tr: np.ndarray, X_te: np.ndarray, seed: int) -> np.ndarray:
    """Runs inside PyOD's environment: PyOD's default model, decision_function on ``X_te``."""
    if method == "pyod_knn":
        from pyod.models.knn import KNN

        model = KNN()
    elif method == "pyod_ecod":
        from pyod.models.ecod import ECOD

        model = ECOD()
    elif method == "pyod_copod":
        from pyod.models.copod import COPOD

        model = COPOD()
    elif method == "pyod_lof":
        from pyod.models.lof import LOF

        model = LOF()
    elif method == "pyod_ae":
        from pyod.models.auto_encoder import AutoEncoder

        model = AutoEncoder(random_state=seed, verbose=0)
    elif method == "pyod_vae":
        from pyod.models.vae import VAE

        model = VAE(random_state=seed, verbose=0)
    elif method == "pyod_pca":
        from pyod.models.pca import PCA

        model = PCA(random_state=seed)
    else:
        raise ValueError(f"unknown method {method!r}")
    return model.fit(X_tr).decision_function(X_te)


def worker(job_dir: str) -> None:
    """``odds.py --worker DIR``: run each ``[split, method]`` of DIR/jobs.json with PyOD; one JSON line per job."""
    one_thread()
    with open(os.path.join(job_dir, "jobs.json")) as f:
        jobs = json.load(f)
    for key, method in jobs:
        data = np.load(os.path.join(job_dir, f"split-{key}.npz"))
        start = time.perf_counter()
        scores = score_pyod(method, data["X_tr"], data["X_te"], int(data["seed"]))
        seconds = time.perf_counter() - start
        np.save(os.path.join(job_dir, f"scores-{method}-{key}.npy"), scores)
        print(json.dumps({"key": key, "method": method, "seconds": seconds}), flush=True)


# ----------------------------------------------------------------------------------------------- driver
def metrics(y: np.ndarray, scores: np.ndarray) -> dict:
    from sklearn.metrics import average_precision_score, roc_auc_score

    if not np.all(np.isfinite(scores)):
        return {"roc_auc": float("nan"), "ap": float("nan")}
    return {"roc_auc": float(roc_auc_score(y, scores)), "ap": float(average_precision_score(y, scores))}


def _row(key: str, method: str, seconds, y, scores) -> dict:
    name, seed = key.rsplit("-", 1)
    return {"set": name, "seed": int(seed), "method": method, "seconds": seconds, **metrics(y, scores)}


def load_cache(out_dir: str) -> dict:
    """Results kept between runs, ``{"method|set-seed": row}`` (bench/out/odds-cache.json)."""
    path = os.path.join(out_dir, "odds-cache.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def aekit_fingerprint() -> str:
    """A hash of the detector's source files: aekit's cached results are reused only for the same code."""
    import hashlib

    folder = os.path.join(REPO, "src", "aekit", "applications")
    digest = hashlib.sha256()
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            with open(os.path.join(folder, name), "rb") as f:
                digest.update(f.read())
    return digest.hexdigest()[:12]


def run(sets, seeds, methods, out_dir: str, use_cache: bool = True, fingerprint=None) -> dict:
    """Every method on every split; results come from the cache when it holds them (aekit's only for the
    same source code of its detector, ``aekit_fingerprint``, or the given ``fingerprint``)."""
    one_thread()
    cache = load_cache(out_dir) if use_cache else {}
    fp = fingerprint or aekit_fingerprint()

    def cache_key(method, key):
        return f"{method}@{fp}|{key}" if method == "aekit" else f"{method}|{key}"

    keys = [f"{name}-{seed}" for name in sets for seed in seeds]
    todo = [(k, m) for k in keys for m in methods if cache_key(m, k) not in cache]
    results = [cache[cache_key(m, k)] for k in keys for m in methods if (k, m) not in todo]
    pyod_jobs = [[k, m] for k, m in todo if m in PYOD_METHODS]
    with tempfile.TemporaryDirectory(prefix="odds-") as job_dir:
        labels = {}
        for key in sorted({k for k, _ in todo}):
            name, seed = key.rsplit("-", 1)
            X_tr, X_te, labels[key] = split(*load_set(name), int(seed))
            np.savez(os.path.join(job_dir, f"split-{key}.npz"), X_tr=X_tr, X_te=X_te, seed=int(seed))
        proc = None
        if pyod_jobs:  # PyOD runs beside the local methods, in its own environment
            with open(os.path.join(job_dir, "jobs.json"), "w") as f:
                json.dump(pyod_jobs, f)
            log = open(os.path.join(out_dir, "odds-pyod-worker.log"), "w")
            proc = subprocess.Popen([PYOD_PYTHON, os.path.abspath(__file__), "--worker", job_dir],
                                    stdout=log, stderr=subprocess.STDOUT)
        new = []
        for key, method in ((k, m) for k, m in todo if m in LOCAL_METHODS):
            data = np.load(os.path.join(job_dir, f"split-{key}.npz"))
            start = time.perf_counter()
            scores = score_local(method, data["X_tr"], data["X_te"], int(data["seed"]))
            new.append(_row(key, method, time.perf_counter() - start, labels[key], scores))
            print(json.dumps(new[-1]), flush=True)
        if proc is not None:
            if proc.wait() != 0:
                raise SystemExit(f"the PyOD worker failed; see {out_dir}/odds-pyod-worker.log")
            with open(os.path.join(out_dir, "odds-pyod-worker.log")) as f:
                seconds = {(j["key"], j["method"]): j["seconds"] for j in map(json.loads, filter(
                    lambda line: line.startswith("{"), f))}
            for key, method in pyod_jobs:
                scores = np.load(os.path.join(job_dir, f"scores-{method}-{key}.npy"))
                new.append(_row(key, method, seconds.get((key, method)), labels[key], scores))
    cache = {**load_cache(out_dir), **{cache_key(r["method"], f"{r['set']}-{r['seed']}"): r for r in new}}
    with open(os.path.join(out_dir, "odds-cache.json"), "w") as f:
        json.dump(cache, f, indent=0)
    return {"results": results + new, "sets": list(sets), "seeds": list(seeds), "methods": list(methods),
            "aekit_fingerprint": fp}


def _per_set(report: dict, metric: str) -> dict:
    """``{(set, method): [value per seed]}``."""
    table: dict = {}
    for r in report["results"]:
        table.setdefault((r["set"], r["method"]), []).append(r[metric] if r[metric] is not None else float("nan"))
    return table


def mean_ranks(report: dict, metric: str) -> list:
    """Per method, its rank among the methods (1 = best, ties shared) on each set's mean, averaged over sets."""
    from scipy.stats import rankdata

    table = _per_set(report, metric)
    ranks = [rankdata([-np.nan_to_num(np.mean(table[(s, m)]), nan=-1.0) for m in report["methods"]])
             for s in report["sets"]]
    return list(np.mean(ranks, axis=0))


def _cells(values, digits, best):
    return ["fails" if not np.isfinite(v) else (f"**{v:.{digits}f}**" if v == best else f"{v:.{digits}f}")
            for v in values]


def summary_table(report: dict, metric: str) -> str:
    """Markdown: one row per set (mean over seeds), one column per method, the best in bold; then the mean,
    the mean rank and, for ROC-AUC, the largest range over seeds of any set.

    A method whose scores were not finite on a set (PyOD's PCA divides by the zero variance of constant
    features) shows 'fails' there and counts as last in that set's ranks.
    """
    methods, sets = report["methods"], report["sets"]
    table = _per_set(report, metric)

    def row(name, values, digits=3, low=False):
        finite = [v for v in values if np.isfinite(v)]
        best = (min(finite) if low else max(finite)) if finite else None
        return f"| {name} | " + " | ".join(_cells(values, digits, best)) + " |"

    lines = ["| set | " + " | ".join(LABELS[m] for m in methods) + " |", "|---|" + "---:|" * len(methods)]
    lines += [row(name, [float(np.mean(table[(name, m)])) for m in methods]) for name in sets]
    lines.append(row(f"**mean, {len(sets)} sets**",
                     [float(np.mean([np.mean(table[(s, m)]) for s in sets])) for m in methods], 4))
    lines.append(row("**mean rank**", mean_ranks(report, metric), 2, low=True))
    if len(report["seeds"]) > 1:
        spread = [float(np.nanmax([np.ptp(table[(s, m)]) for s in sets])) for m in methods]
        lines.append(row(f"largest range over the {len(report['seeds'])} seeds", spread, 3, low=True))
    return "\n".join(lines)


def spread_table(report: dict) -> str:
    """Markdown: the ROC-AUC range (max - min over seeds) of each method on each set."""
    methods, sets = report["methods"], report["sets"]
    table = _per_set(report, "roc_auc")
    lines = ["| set | " + " | ".join(LABELS[m] for m in methods) + " |", "|---|" + "---:|" * len(methods)]
    for name in sets:
        values = [float(np.ptp(table[(name, m)])) for m in methods]
        lines.append(f"| {name} | " + " | ".join(_cells(values, 3, min(v for v in values if np.isfinite(v))))
                     + " |")
    return "\n".join(lines)


def seconds_row(report: dict) -> str:
    """Markdown: per method, the mean fit + score seconds of one split, and the total."""
    methods = report["methods"]
    sec: dict = {}
    for r in report["results"]:
        if r.get("seconds") is not None:
            sec.setdefault(r["method"], []).append(r["seconds"])
    lines = ["| | " + " | ".join(LABELS[m] for m in methods) + " |", "|---|" + "---:|" * len(methods),
             "| mean s per split | " + " | ".join(f"{np.mean(sec.get(m, [np.nan])):.2f}" for m in methods) + " |",
             "| total s | " + " | ".join(f"{np.sum(sec.get(m, [np.nan])):.0f}" for m in methods) + " |"]
    return "\n".join(lines)


def write_tables(report: dict, out_dir: str, name: str = "odds") -> str:
    md = (f"ROC-AUC (mean of {len(report['seeds'])} seeds)\n\n{summary_table(report, 'roc_auc')}\n\n"
          f"Average precision\n\n{summary_table(report, 'ap')}\n\n"
          f"ROC-AUC range over the seeds, per set\n\n{spread_table(report)}\n\n"
          f"Fit + score time (one thread)\n\n{seconds_row(report)}\n")
    with open(os.path.join(out_dir, f"{name}.md"), "w") as f:
        f.write(md)
    return md


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--half", choices=sorted(HALVES), default=None,
                   help="the fixed half A or B of the 17 sets, or all (replaces --sets)")
    p.add_argument("--sets", default=",".join(SETS))
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--methods", default=",".join(("aekit",) + PEERS))
    p.add_argument("--out", default=os.path.join(BENCH, "out"))
    p.add_argument("--no-cache", action="store_true", help="recompute everything instead of reading odds-cache.json")
    p.add_argument("--aekit-fingerprint", default=None,
                   help="take aekit's cached results of the detector code with this fingerprint (a report's "
                        "'aekit_fingerprint'), not of the code as it is now")
    p.add_argument("--tables", action="store_true", help="only rewrite the .md from the .json of --out")
    p.add_argument("--worker", metavar="DIR", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args.worker)
    methods = [m for m in args.methods.split(",") if m]
    unknown = [m for m in methods if m not in LOCAL_METHODS + PYOD_METHODS]
    if unknown:
        raise SystemExit(f"unknown methods {unknown}; known: {', '.join(LOCAL_METHODS + PYOD_METHODS)}")
    sets = list(HALVES[args.half]) if args.half else [s for s in args.sets.split(",") if s]
    name = f"odds-{args.half}" if args.half else "odds"
    if args.tables:
        with open(os.path.join(args.out, f"{name}.json")) as f:
            return print(write_tables(json.load(f), args.out, name))
    os.makedirs(args.out, exist_ok=True)
    start = time.time()
    report = run(sets, [int(s) for s in args.seeds.split(",")], methods, args.out, use_cache=not args.no_cache,
                 fingerprint=args.aekit_fingerprint)
    report.update(command="python bench/odds.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                  date=datetime.date.today().isoformat(), seconds=time.time() - start,
                  python=platform.python_version(), cpu_count=os.cpu_count())
    with open(os.path.join(args.out, f"{name}.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(write_tables(report, args.out, name))
    print(f"{report['seconds']:.0f} s in all")


if __name__ == "__main__":
    main()
