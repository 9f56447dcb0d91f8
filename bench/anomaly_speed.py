"""Speed of the default anomaly detector (issue 12): fit + score on 10,000 x 30, and ``aekit detect`` on MNIST.

    .venv/bin/python bench/anomaly_speed.py              # both, with 1 and with 2 torch threads
    .venv/bin/python bench/anomaly_speed.py --only table # the 10,000 x 30 part only

Part 1: ``AnomalyDetector(random_state=0).fit(X)`` then ``score_samples(X)`` on a 10,000 x 30 table
(correlated gaussian features, 1 % outliers), once with ``torch.set_num_threads(1)`` and once with 2.
Part 2: a default detector fitted on the first ``--fit-rows`` of MNIST's 60,000 training images (the fit is
not the goal; what ``detect`` costs does not depend on it: the tails keep at most 1,024 quantiles), then
``aekit detect DETECTOR mnist -o scores.csv`` timed end to end in this process (loading the file and the
data, scoring, p-values, top features of the flagged samples, writing the CSV); and the same for a
single-autoencoder detector with the 'joint' Mahalanobis score (the default before issue 12, whose 784 x 784
residual Mahalanobis distance and second scoring pass made ``detect`` take 190 s).
Timings on a shared machine are noisy: the load average is printed with each.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST_DIR = os.path.normpath(os.path.join(REPO, "..", "shared", "data", "mnist"))


def table(n=10_000, d=30, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) / np.sqrt(d)
    X[: n // 100] += rng.normal(scale=4.0, size=(n // 100, d))
    return X.astype(np.float32)


def timed(fn) -> float:
    """Wall seconds of ``fn()``; the process's CPU seconds go to ``timed.cpu`` (on a shared machine the wall
    time of a one-thread run is its CPU time plus the waiting for a core)."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    timed.cpu = time.process_time() - cpu
    return time.perf_counter() - start


def part_table() -> None:
    import torch

    from aekit import AnomalyDetector

    X = table()
    for threads in (1, 2):
        torch.set_num_threads(threads)
        det = AnomalyDetector(random_state=0)
        fit = timed(lambda: det.fit(X))
        fit_cpu = timed.cpu
        score = timed(lambda: det.score_samples(X))
        print(f"10,000 x 30, {threads} thread(s): fit {fit:.2f} s + score {score:.2f} s = {fit + score:.2f} s wall, "
              f"{fit_cpu + timed.cpu:.2f} s CPU (load average {os.getloadavg()[0]:.1f})", flush=True)


def part_detect(fit_rows: int) -> None:
    import torch

    from aekit import AnomalyDetector
    from aekit.applications import default_autoencoder
    from aekit.cli import main
    from aekit.datasets import load_dataset

    torch.set_num_threads(2)
    X = load_dataset("mnist", data_dir=MNIST_DIR).X
    with tempfile.TemporaryDirectory() as tmp:
        n_train = fit_rows - int(round(0.2 * fit_rows))
        for label, det in [("default (ensemble, tails)", AnomalyDetector(random_state=0)),
                           ("one autoencoder, joint (the old default)",
                            AnomalyDetector(default_autoencoder(X.shape[1], n_train, random_state=0, epochs=3),
                                            anomaly_score="joint", random_state=0))]:
            fit = timed(lambda: det.fit(X[:fit_rows]))
            path = os.path.join(tmp, "det.safetensors")
            det.save(path, overwrite=True)
            out = os.path.join(tmp, "scores.csv")
            detect = timed(lambda: main(["detect", path, "mnist", "--data-dir", MNIST_DIR, "-o", out]))
            print(f"MNIST {X.shape}, {label}: fit {fit:.1f} s; aekit detect {detect:.2f} s wall, {timed.cpu:.2f} s "
                  f"CPU (load average {os.getloadavg()[0]:.1f})", flush=True)


def main_(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", choices=("table", "detect"), default=None)
    p.add_argument("--fit-rows", type=int, default=60_000, help="MNIST rows the detectors are fitted on")
    args = p.parse_args(argv)
    if args.only in (None, "table"):
        part_table()
    if args.only in (None, "detect"):
        part_detect(args.fit_rows)


if __name__ == "__main__":
    main_()
