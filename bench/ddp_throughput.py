"""Training throughput in 1 and 2 processes (torch.distributed, gloo on CPU), the dense step against autograd.

    python bench/ddp_throughput.py [--rounds 3] [--epochs 3] [--model tutorial] [--nproc 1,2]

Each configuration (processes x step) is started through ``aekit.training.distributed.launch`` (torch's
elastic launcher, as ``aekit train --nproc N``), one after the other within a round, rounds interleaved, so
the machine's load falls on every configuration alike. Each process trains on ``--threads`` threads (default 1) the benchmark's model
(bench/workers/common.py) on MNIST's 60,000 images with the one loop (``Trainer``), global batch 256;
reported: the median seconds of the epochs after the first, over all rounds, rows per second, and the ratio
to one process with the dense step.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def worker(spec: dict) -> None:
    """One rank: train and (rank 0) write the epochs' seconds."""
    sys.path.insert(0, os.path.join(HERE, "workers"))
    import common
    import torch

    from aekit.models import model_class
    from aekit.training import TrainConfig, Trainer, distributed

    ctx = distributed.setup(device="cpu")
    x, _ = common.load_mnist({"data_dir": spec["data"], "n_val": 1})
    x = torch.from_numpy(x)
    cls = model_class("dense")
    torch.manual_seed(0)
    shape = common.MODELS[spec["model"]]
    model = cls(cls.Config(input_shape=(x.shape[1],), hidden=tuple(shape["hidden"]), latent_dim=shape["latent"],
                           output_activation="sigmoid", loss="bce"))
    cfg = TrainConfig(epochs=spec["epochs"], batch_size=256, fused_step=spec["fused"], seed=0, num_threads=spec["threads"],
                      rank=ctx.rank, world_size=ctx.world_size)
    history = Trainer(cfg).fit(model, x)
    if ctx.is_main:
        with open(spec["out"], "w") as f:
            json.dump({"seconds": history["seconds"], "loss": history["loss"][-1], "rows": int(x.shape[0])}, f)
    distributed.teardown()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--model", default="tutorial")
    p.add_argument("--nproc", default="1,2", help="process counts, comma-separated")
    p.add_argument("--threads", type=int, default=1,
                   help="CPU threads per process (default 1, what torchrun sets for several processes; on the "
                        "shared 2-core machine one process on 2 threads took 40.7 s an epoch, 14x slower)")
    p.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "mnist"))
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker is not None:
        return worker(json.loads(args.worker))
    from aekit.training import distributed

    configs = [(n, fused) for n in (int(v) for v in args.nproc.split(",")) for fused in (True, False)]
    seconds: dict = {c: [] for c in configs}
    losses: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for nproc, fused in configs:
                out = os.path.join(tmp, "result.json")
                spec = {"data": os.path.abspath(args.data), "model": args.model, "epochs": args.epochs,
                        "fused": fused, "out": out, "threads": args.threads}
                distributed.launch(nproc, [os.path.abspath(__file__), "--worker", json.dumps(spec)], module=None)
                with open(out) as f:
                    result = json.load(f)
                seconds[(nproc, fused)] += result["seconds"][1:]
                losses[(nproc, fused)], rows = result["loss"], result["rows"]
    base = statistics.median(seconds[configs[0]])
    print(f"model {args.model}, {rows} rows, global batch 256, {args.threads} thread(s) per process, "
          f"{args.rounds} rounds x {args.epochs - 1} epochs")
    print(f"{'processes':>9} {'step':>9} {'s/epoch':>8} {'rows/s':>8} {'vs 1 proc dense':>16} {'final loss':>10}")
    for (nproc, fused), values in seconds.items():
        med = statistics.median(values)
        print(f"{nproc:>9} {'dense' if fused else 'autograd':>9} {med:>8.3f} {rows / med:>8.0f} "
              f"{base / med:>16.2f} {losses[(nproc, fused)]:>10.4f}")


if __name__ == "__main__":
    main()
