"""ODDS outlier-detection benchmark: aekit's AnomalyDetector (default settings) against PyOD and scikit-learn.

    .venv/bin/python bench/odds.py                       # all 17 sets, seeds 0-4, every method
    .venv/bin/python bench/odds.py --sets cardio,wbc --seeds 0 --methods aekit,iforest

Protocol (as PyOD's benchmark): each ``.mat`` set from ``../shared/data/odds`` is split 60/40 (stratified
on the label so that every test part holds outliers) with ``random_state=seed``; a StandardScaler fitted on
the training part is applied to both parts; every method is fitted on the training part *without labels*
(outliers included) and scores the test part; ROC-AUC and average precision use the labels (1 = outlier).

Methods, each with its library's default settings and ``random_state=seed``:

- ``aekit``: ``aekit.AnomalyDetector(random_state=seed)``, score ``-score_samples``;
- ``pyod_ae`` / ``pyod_vae`` / ``pyod_pca``: PyOD's AutoEncoder, VAE and PCA, ``decision_function``; run by
  this same file as a worker inside PyOD's own virtual environment (``bench/.venvs/pyod``), since aekit's
  environment does not carry PyOD;
- ``iforest``: ``sklearn.ensemble.IsolationForest``, score ``-score_samples``;
- ``pca``: reconstruction error of ``sklearn.decomposition.PCA`` keeping as many components as aekit's
  default code (``max(2, n_features // 4)``).

Every process uses one CPU thread (the benchmark machine is shared). Results go to ``bench/out/odds.json``
and a Markdown table to ``bench/out/odds.md`` (``--tables`` rewrites it from odds.json). ``--why`` instead
measures each part of the PCA and aekit scores on ``--sets`` (docs/benchmarks.md, "Where PCA wins"). This file imports neither aekit nor PyOD at the top, so the
worker runs in PyOD's environment.
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
LOCAL_METHODS = ("aekit", "iforest", "pca")
PYOD_METHODS = ("pyod_ae", "pyod_vae", "pyod_pca")
LABELS = {"aekit": "aekit", "pyod_ae": "PyOD AE", "pyod_vae": "PyOD VAE", "iforest": "IForest",
          "pca": "PCA (recon.)", "pyod_pca": "PyOD PCA"}


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

        return -AnomalyDetector(random_state=seed).fit(X_tr).score_samples(X_te)
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
    if method == "pyod_ae":
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


def worker(job_dir: str, methods: list) -> None:
    """``odds.py --worker DIR``: score every split file in DIR with each PyOD method; one JSON line per job."""
    one_thread()
    for name in sorted(f for f in os.listdir(job_dir) if f.startswith("split-")):
        data = np.load(os.path.join(job_dir, name))
        seed = int(data["seed"])
        for method in methods:
            start = time.perf_counter()
            scores = score_pyod(method, data["X_tr"], data["X_te"], seed)
            seconds = time.perf_counter() - start
            np.save(os.path.join(job_dir, f"scores-{method}-{name[len('split-'):-len('.npz')]}.npy"), scores)
            print(json.dumps({"job": name, "method": method, "seconds": seconds}), flush=True)


# ----------------------------------------------------------------------------------------------- driver
def metrics(y: np.ndarray, scores: np.ndarray) -> dict:
    from sklearn.metrics import average_precision_score, roc_auc_score

    if not np.all(np.isfinite(scores)):
        return {"roc_auc": float("nan"), "ap": float("nan")}
    return {"roc_auc": float(roc_auc_score(y, scores)), "ap": float(average_precision_score(y, scores))}


def run(sets, seeds, methods, out_dir: str) -> dict:
    one_thread()
    pyod_methods = [m for m in methods if m in PYOD_METHODS]
    results = []
    with tempfile.TemporaryDirectory(prefix="odds-") as job_dir:
        labels = {}
        for name in sets:
            X, y = load_set(name)
            for seed in seeds:
                X_tr, X_te, y_te = split(X, y, seed)
                key = f"{name}-{seed}"
                labels[key] = y_te
                np.savez(os.path.join(job_dir, f"split-{key}.npz"), X_tr=X_tr, X_te=X_te, seed=seed)
        proc = None
        if pyod_methods:  # PyOD runs beside the local methods, in its own environment
            log = open(os.path.join(out_dir, "odds-pyod-worker.log"), "w")
            proc = subprocess.Popen([PYOD_PYTHON, os.path.abspath(__file__), "--worker", job_dir,
                                     "--methods", ",".join(pyod_methods)], stdout=log, stderr=subprocess.STDOUT)
        for key in labels:
            data = np.load(os.path.join(job_dir, f"split-{key}.npz"))
            for method in (m for m in methods if m in LOCAL_METHODS):
                start = time.perf_counter()
                scores = score_local(method, data["X_tr"], data["X_te"], int(data["seed"]))
                row = {"set": key.rsplit("-", 1)[0], "seed": int(data["seed"]), "method": method,
                       "seconds": time.perf_counter() - start, **metrics(labels[key], scores)}
                results.append(row)
                print(json.dumps(row), flush=True)
        if proc is not None:
            if proc.wait() != 0:
                raise SystemExit(f"the PyOD worker failed; see {out_dir}/odds-pyod-worker.log")
            with open(os.path.join(out_dir, "odds-pyod-worker.log")) as f:
                seconds = {}
                for line in f:
                    if line.startswith("{"):
                        job = json.loads(line)
                        seconds[(job["job"][len("split-"):-len(".npz")], job["method"])] = job["seconds"]
            for key in labels:
                for method in pyod_methods:
                    scores = np.load(os.path.join(job_dir, f"scores-{method}-{key}.npy"))
                    results.append({"set": key.rsplit("-", 1)[0], "seed": int(key.rsplit("-", 1)[1]),
                                    "method": method, "seconds": seconds.get((key, method)),
                                    **metrics(labels[key], scores)})
    return {"results": results, "sets": list(sets), "seeds": list(seeds), "methods": list(methods)}


def summary_table(report: dict, metric: str) -> str:
    """Markdown: one row per set (mean over seeds), one column per method, the best in bold; then the means.

    A method whose scores were not finite on a set (PyOD's PCA divides by the zero variance of constant
    features) shows 'fails' there; the means are then given over all sets (without it) and over the sets
    where every method ran.
    """
    methods, sets = report["methods"], report["sets"]
    table = {(r["set"], r["method"]): [] for r in report["results"]}
    for r in report["results"]:
        table[(r["set"], r["method"])].append(r[metric])
    means = {k: float(np.mean(v)) for k, v in table.items()}
    complete = [s for s in sets if all(np.isfinite(means[(s, m)]) for m in methods)]

    def row(name, values, digits=3):
        finite = [v for v in values if np.isfinite(v)]
        best = max(finite) if finite else None
        cells = ["fails" if not np.isfinite(v) else (f"**{v:.{digits}f}**" if v == best else f"{v:.{digits}f}")
                 for v in values]
        return f"| {name} | " + " | ".join(cells) + " |"

    lines = ["| set | " + " | ".join(LABELS[m] for m in methods) + " |", "|---|" + "---:|" * len(methods)]
    lines += [row(name, [means[(name, m)] for m in methods]) for name in sets]
    all_sets = [float(np.mean([means[(s, m)] for s in sets])) for m in methods]
    lines.append(row(f"**mean, {len(sets)} sets**", all_sets, 4))
    if len(complete) < len(sets):
        lines.append(row(f"**mean, the {len(complete)} sets where every method ran**",
                         [float(np.mean([means[(s, m)] for s in complete])) for m in methods], 4))
    return "\n".join(lines)


def why(sets, seeds) -> str:
    """Where PCA beats a reconstruction-error detector: ROC-AUC of each part of the PCA and aekit scores."""
    from sklearn.decomposition import PCA

    from aekit import AnomalyDetector
    from aekit.applications.anomaly import _codes_and_residuals

    one_thread()
    from scipy.spatial.distance import cdist

    parts = ("PCA recon. error (k)", "PCA Mahalanobis, top k", "PCA Mahalanobis, rest", "PCA Mahalanobis, all",
             "PyOD PCA's formula", "distance from the mean", "aekit recon. error", "aekit residual term",
             "aekit code term", "aekit joint (default)")
    table = {}
    for name in sets:
        X, y = load_set(name)
        for seed in seeds:
            X_tr, X_te, y_te = split(X, y, seed)
            k = max(2, X.shape[1] // 4)
            pca = PCA(random_state=seed).fit(X_tr)
            proj = pca.transform(X_te) ** 2 / np.maximum(pca.explained_variance_, 1e-12)  # (n, d)
            det = AnomalyDetector(random_state=seed).fit(X_tr)
            codes, resid = _codes_and_residuals(det.autoencoder_, X_te)
            em = det.error_model_
            recon = PCA(k, random_state=seed).fit(X_tr)
            # PyOD's PCA (weighted, all components): sum_j ||x - v_j|| / explained_variance_ratio_j
            pyod_like = (cdist(X_te, pca.components_) / pca.explained_variance_ratio_).sum(1)
            scores = [np.square(recon.inverse_transform(recon.transform(X_te)) - X_te).mean(1),
                      proj[:, :k].sum(1), proj[:, k:].sum(1), proj.sum(1), pyod_like, np.linalg.norm(X_te, axis=1),
                      np.square(resid).mean(1),
                      em._mahalanobis("residual", resid), em._mahalanobis("code", codes), -det.score_samples(X_te)]
            for part, sc in zip(parts, scores):
                table.setdefault((name, part), []).append(metrics(y_te, sc)["roc_auc"])
    lines = ["| score | " + " | ".join(sets) + " |", "|---|" + "---:|" * len(sets)]
    for part in parts:
        lines.append(f"| {part} | " + " | ".join(f"{np.mean(table[(s, part)]):.3f}" for s in sets) + " |")
    return "\n".join(lines)


def seed_spread(report: dict, metric: str) -> str:
    """Markdown: per method, the mean over sets for each seed, and their mean and standard deviation."""
    methods, sets, seeds = report["methods"], report["sets"], report["seeds"]
    value = {(r["set"], r["seed"], r["method"]): r[metric] for r in report["results"]}
    lines = ["| method | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | sd over seeds |",
             "|---|" + "---:|" * (len(seeds) + 2)]
    for m in methods:
        per_seed = [float(np.mean([value[(name, seed, m)] for name in sets])) for seed in seeds]
        if not np.all(np.isfinite(per_seed)):
            lines.append(f"| {LABELS[m]} | " + " | ".join("fails" for _ in range(len(seeds) + 2)) + " |")
            continue
        lines.append(f"| {LABELS[m]} | " + " | ".join(f"{v:.4f}" for v in per_seed)
                     + f" | {np.mean(per_seed):.4f} | {np.std(per_seed, ddof=1) if len(seeds) > 1 else 0:.4f} |")
    return "\n".join(lines)


def write_tables(report: dict, out_dir: str) -> str:
    md = (f"ROC-AUC (mean of {len(report['seeds'])} seeds)\n\n{summary_table(report, 'roc_auc')}\n\n"
          f"Average precision\n\n{summary_table(report, 'ap')}\n\n"
          f"ROC-AUC, mean over the sets, per seed\n\n{seed_spread(report, 'roc_auc')}\n")
    with open(os.path.join(out_dir, "odds.md"), "w") as f:
        f.write(md)
    return md


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sets", default=",".join(SETS))
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--methods", default="aekit,pyod_ae,pyod_vae,iforest,pca,pyod_pca")
    p.add_argument("--out", default=os.path.join(BENCH, "out"))
    p.add_argument("--why", action="store_true",
                   help="instead of the benchmark: ROC-AUC of each part of the PCA and aekit scores on --sets")
    p.add_argument("--tables", action="store_true", help="only rewrite odds.md from the odds.json of --out")
    p.add_argument("--worker", metavar="DIR", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    methods = [m for m in args.methods.split(",") if m]
    if args.worker:
        return worker(args.worker, methods)
    if args.tables:
        with open(os.path.join(args.out, "odds.json")) as f:
            return print(write_tables(json.load(f), args.out))
    if args.why:
        table = why([s for s in args.sets.split(",") if s], [int(s) for s in args.seeds.split(",")])
        with open(os.path.join(args.out, "odds-why.md"), "w") as f:
            f.write(table + "\n")
        return print(table)
    unknown = [m for m in methods if m not in LOCAL_METHODS + PYOD_METHODS]
    if unknown:
        raise SystemExit(f"unknown methods {unknown}; known: {', '.join(LOCAL_METHODS + PYOD_METHODS)}")
    os.makedirs(args.out, exist_ok=True)
    start = time.time()
    report = run([s for s in args.sets.split(",") if s], [int(s) for s in args.seeds.split(",")], methods, args.out)
    report.update(command="python bench/odds.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                  date=datetime.date.today().isoformat(), seconds=time.time() - start,
                  python=platform.python_version(), cpu_count=os.cpu_count())
    with open(os.path.join(args.out, "odds.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(write_tables(report, args.out))
    print(f"{report['seconds']:.0f} s in all")


if __name__ == "__main__":
    main()
