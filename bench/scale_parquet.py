"""Training and scoring from a Parquet folder larger than a process should hold: peak memory and speed.

    python bench/scale_parquet.py [--files 24] [--rows 500000] [--cols 64] [--threads N] [--keep]

Generates (seeded) a float32 Parquet folder (default 24 files x 500,000 rows x 64 columns, about 3 GB;
rows are a 8-dimensional signal mixed into 64 columns, plus noise) under bench/out/scale-data (git-ignored),
then, each in its own process: one training epoch streamed from the folder; the same epoch on the same
rows held in memory; ``aekit encode`` and ``aekit detect`` of the folder. Prints peak RSS (VmHWM) and rows
per second of each, and the streamed/in-memory throughput ratio (``--memory-rows`` holds only the first
files in memory, where RAM is short); deletes the data unless --keep.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = dict(hidden=(128, 64), latent_dim=8, epochs=1, batch_size=256, random_state=0, device="cpu")

CHILD = r"""
import json, sys, time
import numpy as np
import torch
args = json.loads(sys.argv[1])
if args["threads"]:
    torch.set_num_threads(args["threads"])
from aekit import AutoEncoder
from aekit.cli import main

def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

start = time.perf_counter()
out = {}
if args["what"] == "stream":
    est = AutoEncoder(**args["model"]).fit(args["data"])
    out["epoch_s"] = est.history_["seconds"][0]
    out["fit_s"] = time.perf_counter() - start
    out["rows"] = args["n"]
elif args["what"] == "memory":
    import pyarrow.parquet as pq, glob
    parts, rows = [], 0
    for f in sorted(glob.glob(args["data"] + "/*.parquet")):
        if args["memory_rows"] and rows >= args["memory_rows"]:
            break
        t = pq.read_table(f)
        parts.append(np.column_stack([c.to_numpy() for c in t.columns]).astype(np.float32))
        rows += len(parts[-1])
    X = np.concatenate(parts); del parts
    out["rows"] = len(X)
    out["load_s"] = time.perf_counter() - start
    est = AutoEncoder(**args["model"]).fit(X)
    out["epoch_s"] = est.history_["seconds"][0]
    est.save(args["model_path"], overwrite=True)
else:
    assert main(args["argv"]) == 0
    out["seconds"] = time.perf_counter() - start
out["peak_rss_mb"] = peak_mb()
print(json.dumps(out))
"""


def generate(folder: str, files: int, rows: int, cols: int) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    mixing = rng.standard_normal((8, cols)).astype(np.float32)
    for i in range(files):
        z = rng.standard_normal((rows, 8), dtype=np.float32)
        x = z @ mixing + 0.1 * rng.standard_normal((rows, cols), dtype=np.float32)
        table = pa.table({f"c{j}": x[:, j] for j in range(cols)})
        pq.write_table(table, os.path.join(folder, f"part-{i:03d}.parquet"), row_group_size=100_000)
    return sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))


def child(what: str, threads: int, **kw) -> dict:
    args = json.dumps({"what": what, "threads": threads, "model": MODEL, **kw})
    out = subprocess.run([sys.executable, "-c", CHILD, args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--files", type=int, default=24)
    p.add_argument("--rows", type=int, default=500_000)
    p.add_argument("--cols", type=int, default=64)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: aekit's choice)")
    p.add_argument("--out", default=os.path.join(HERE, "out", "scale-data"))
    p.add_argument("--memory-rows", type=int, default=0,
                   help="hold only the first files' rows (at least this many) for the in-memory epoch (0: all)")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    data, work = os.path.join(args.out, "parquet"), args.out
    n = args.files * args.rows
    t = time.perf_counter()
    size = generate(data, args.files, args.rows, args.cols)
    print(f"generated {n:,} rows x {args.cols} columns, {size / 1e9:.2f} GB in {time.perf_counter() - t:.0f} s")
    try:
        model_path = os.path.join(work, "model.safetensors")
        stream = child("stream", args.threads, data=data, n=n)
        memory = child("memory", args.threads, data=data, model_path=model_path, memory_rows=args.memory_rows)
        sample = os.path.join(work, "sample.npy")
        import pyarrow.parquet as pq

        first = pq.read_table(os.path.join(data, "part-000.parquet"))
        np.save(sample, np.column_stack([c.to_numpy() for c in first.columns])[:100_000])
        encode = child("cli", args.threads, argv=["encode", model_path, data, "-o", os.path.join(work, "codes.npy")])
        assert child("cli", args.threads, argv=["fit-detector", sample, "-o", os.path.join(work, "det.safetensors"),
                                                "--epochs", "2", "--force"])
        detect = child("cli", args.threads, argv=["detect", os.path.join(work, "det.safetensors"), data, "-o",
                                                  os.path.join(work, "scores.csv")])
    finally:
        if not args.keep:
            shutil.rmtree(args.out, ignore_errors=True)
    rate = lambda r: r["rows"] / r["epoch_s"]  # noqa: E731
    print(f"train, streamed:  epoch {stream['epoch_s']:.1f} s ({rate(stream):,.0f} rows/s), "
          f"fit {stream['fit_s']:.1f} s with the statistics pass, peak RSS {stream['peak_rss_mb']:,.0f} MB")
    print(f"train, in memory: epoch {memory['epoch_s']:.1f} s ({rate(memory):,.0f} rows/s), "
          f"peak RSS {memory['peak_rss_mb']:,.0f} MB (load {memory['load_s']:.1f} s)")
    print(f"throughput streamed / in memory: {rate(stream) / rate(memory):.2f} (in memory: {memory['rows']:,} rows)")
    print(f"encode (streamed to .npy): {encode['seconds']:.1f} s, peak RSS {encode['peak_rss_mb']:,.0f} MB")
    print(f"detect (streamed to .csv): {detect['seconds']:.1f} s, peak RSS {detect['peak_rss_mb']:,.0f} MB")


if __name__ == "__main__":
    main()
