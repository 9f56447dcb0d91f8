"""Throughput of Dask scoring (1 and 2 local workers) against one process, on a generated Parquet folder.

    .venv/bin/python bench/dask_scoring.py                       # 200,000 rows x 64 features, 8 files, 3 rounds
    .venv/bin/python bench/dask_scoring.py --rows 50000 --features 784 --partitions 4 --rounds 2
    .venv/bin/python bench/dask_scoring.py --single-threads 1 --rounds 5     # leave out torch's default threads

Each job is what ``aekit detect|encode ... --dask`` does after start-up: read the Parquet folder, score every
row (``score_samples``), write one Parquet file per partition. One process does the same with pyarrow and
``score_samples`` on the whole table, writing one file, on 1 thread (as each Dask worker runs: Dask sets
OMP_NUM_THREADS=1 in its workers) and on torch's default threads. The clusters start once
(timed apart), and each cluster's first job (its workers import torch and load the model) is timed apart
too; then each round runs the three in turn, so a busy moment of a shared machine hits all of them.
The data (seeded uniform numbers in [0, 1]) and outputs go to a temporary folder and are removed.
"""
from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def make_data(folder: Path, rows: int, features: int, partitions: int, seed: int) -> list:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    names = [f"f{i}" for i in range(features)]
    folder.mkdir()
    for i, chunk in enumerate(np.array_split(np.arange(rows), partitions)):
        X = rng.random((len(chunk), features), dtype=np.float32)
        pq.write_table(pa.table({n: X[:, j] for j, n in enumerate(names)}), folder / f"part-{i:06d}.parquet")
    return names


def train_model(path: Path, names: list, seed: int) -> None:
    import pandas as pd

    from aekit import AutoEncoder

    X = np.random.default_rng(seed + 1).random((2000, len(names)), dtype=np.float32)
    est = AutoEncoder(latent_dim=8, hidden=(128, 64), epochs=1, random_state=seed)
    est.fit(pd.DataFrame(X, columns=names)).save(path)


def single_process(model_path: Path, folder: Path, out: Path, threads: int) -> None:
    import pandas as pd
    import pyarrow.parquet as pq
    import torch

    import aekit

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        scores = aekit.load(model_path).score_samples(pq.read_table(folder).to_pandas())
    finally:
        torch.set_num_threads(before)
    out.mkdir()
    pd.DataFrame({"score": scores.astype(np.float64)}).to_parquet(out / "part-000000.parquet", index=False)


def dask_job(client, model_path: Path, folder: Path, out: Path) -> None:
    from aekit.applications.dask_scoring import map_model, write_parquet

    with client.as_current():
        write_parquet(map_model(model_path, folder, "score"), out)


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--features", type=int, default=64)
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--single-threads", default=None, metavar="N,M",
                    help="torch threads of the one-process runs (default: 1 and torch's default)")
    args = ap.parse_args()

    import torch

    from aekit.applications.dask_scoring import connect

    tmp = Path(tempfile.mkdtemp(prefix="aekit-dask-bench-"))
    try:
        names = make_data(tmp / "data", args.rows, args.features, args.partitions, args.seed)
        train_model(tmp / "model.safetensors", names, args.seed)
        with contextlib.ExitStack() as stack:
            clients, startup, first = {}, {}, {}
            for n in (1, 2):
                start = time.perf_counter()
                clients[n] = stack.enter_context(connect(f"local:{n}"))
                startup[n] = time.perf_counter() - start
                first[n] = timed(dask_job, clients[n], tmp / "model.safetensors", tmp / "data", tmp / f"warm{n}")
            threads = [int(t) for t in (args.single_threads or f"1,{torch.get_num_threads()}").split(",")]
            runs = {f"one process, {t} thread{'s' if t > 1 else ''}": [] for t in threads}
            runs.update({"dask local:1": [], "dask local:2": []})
            for r in range(args.rounds):
                for t in threads:
                    runs[f"one process, {t} thread{'s' if t > 1 else ''}"].append(
                        timed(single_process, tmp / "model.safetensors", tmp / "data", tmp / f"single{t}-{r}", t))
                for n in (1, 2):
                    runs[f"dask local:{n}"].append(timed(dask_job, clients[n], tmp / "model.safetensors",
                                                         tmp / "data", tmp / f"dask{n}-{r}"))
        report(args, runs, startup, first)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(args, runs: dict, startup: dict, first: dict) -> None:
    print(f"{args.rows:,} rows x {args.features} features, {args.partitions} Parquet files, model "
          f"{args.features}-128-64-8 (score_samples), {args.rounds} rounds")
    print(f"cluster start: local:1 {startup[1]:.1f} s, local:2 {startup[2]:.1f} s; first job (worker imports, "
          f"model load): local:1 {first[1]:.1f} s, local:2 {first[2]:.1f} s")
    first_run = next(iter(runs))
    base = runs[first_run]
    print(f"| run | median s | rows/s | s per round | per round: s / {first_run}'s s |")
    print("|---|---|---|---|---|")
    for name, times in runs.items():
        med = statistics.median(times)
        ratios = ", ".join(f"{t / b:.2f}" for t, b in zip(times, base))
        print(f"| {name} | {med:.2f} | {args.rows / med:,.0f} | {', '.join(f'{t:.2f}' for t in times)} | {ratios} |")


if __name__ == "__main__":  # the workers re-import the main module
    main()
