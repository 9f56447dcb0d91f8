"""The tutorial model's in-memory epoch, this tree against another, interleaved in one run.

    python bench/scale_epoch.py [--base REV] [--rounds 5] [--epochs 3]

Exports REV (default ``main``) with ``git archive`` to a temporary folder and alternates one process per
side and round, each training the benchmark's tutorial model (bench/workers/common.py) on MNIST's 60,000
images; reports the median seconds of the epochs after the first, and their ratio (this tree / REV).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import io

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CHILD = """
import json, os, sys
sys.path.insert(0, {workers!r})
import common
from aekit_worker import make_estimator
x, _ = common.load_mnist({{"data_dir": {data!r}, "n_val": 1}})
est = make_estimator({model!r}, {epochs}).fit(x)
print(json.dumps(est.history_["seconds"]))
"""


def export(rev: str, dest: str) -> str:
    blob = subprocess.run(["git", "-C", ROOT, "archive", rev, "src"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(dest)
    return os.path.join(dest, "src")


def one(src: str, model: str, epochs: int, data: str) -> list:
    code = CHILD.format(workers=os.path.join(HERE, "workers"), data=data, model=model, epochs=epochs)
    env = {**os.environ, "PYTHONPATH": src}
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])[1:]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default="main")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--model", default="tutorial")
    p.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "mnist"))
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sides = {args.base: export(args.base, tmp), "this tree": os.path.join(ROOT, "src")}
        seconds = {name: [] for name in sides}
        for _ in range(args.rounds):
            for name, src in sides.items():
                seconds[name] += one(src, args.model, args.epochs, args.data)
    med = {name: statistics.median(v) for name, v in seconds.items()}
    for name, value in med.items():
        print(f"{name:12s} median epoch {value:.3f} s over {len(seconds[name])} epochs")
    print(f"ratio this tree / {args.base}: {med['this tree'] / med[args.base]:.3f}")


if __name__ == "__main__":
    main()
