"""The machine's limit for the workload: float32 GEMM time at the exact shapes of one training step.

A dense layer y = x @ W.T (x: (B, fan_in), W: (fan_out, fan_in)) costs three GEMMs per training step:
forward x @ W.T, input gradient g @ W, weight gradient g.T @ x, each 2 * B * fan_in * fan_out FLOPs.
No framework computes the input gradient of the first layer (the data needs none), so the bound leaves it out;
``train_flops_issue`` counts it, as issue 6's formula does. Each GEMM is timed with torch.mm on the same
transposed views autograd uses, with torch's thread count; the bound is the sum of those times times the steps.
Run standalone it prints one ``RESULT`` line; ``scoring_worker`` imports ``time_gemm`` and ``forward_bound``.
"""
from __future__ import annotations

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import torch  # noqa: E402

EVAL_BATCH = 4096  # aekit's TrainConfig.eval_batch_size: the validation pass runs in batches of this size


def time_gemm(m: int, n: int, k: int, kind: str, min_seconds: float = 0.05, repeats: int = 5) -> float:
    """Median seconds of one (m, k) x (k, n) float32 product laid out as autograd lays it out for ``kind``."""
    gen = torch.Generator().manual_seed(0)
    if kind == "forward":        # x (m, k) @ W.T, W (n, k)
        a, b = torch.rand(m, k, generator=gen), torch.rand(n, k, generator=gen).t()
    elif kind == "input_grad":   # g (m, k) @ W, W (k, n)
        a, b = torch.rand(m, k, generator=gen), torch.rand(k, n, generator=gen)
    elif kind == "weight_grad":  # g.T (m, k) @ x (k, n), g (k, m)
        a, b = torch.rand(k, m, generator=gen).t(), torch.rand(k, n, generator=gen)
    else:
        raise ValueError(f"unknown GEMM kind {kind!r}")
    out = torch.empty(m, n)
    for _ in range(3):
        torch.mm(a, b, out=out)
    calls = 1
    while True:  # enough calls per repeat to last min_seconds
        t0 = time.perf_counter()
        for _ in range(calls):
            torch.mm(a, b, out=out)
        if time.perf_counter() - t0 >= min_seconds:
            break
        calls *= 2
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            torch.mm(a, b, out=out)
        samples.append((time.perf_counter() - t0) / calls)
    return statistics.median(samples)


def step_gemms(model: str, batch: int, training: bool) -> list:
    """(kind, layer index, m, n, k) of every GEMM in one step; forward only when not ``training``."""
    gemms = []
    for i, (fan_in, fan_out) in enumerate(common.layers(model)):
        gemms.append(("forward", i, batch, fan_out, fan_in))
        if training:
            if i > 0:
                gemms.append(("input_grad", i, batch, fan_in, fan_out))
            gemms.append(("weight_grad", i, fan_out, fan_in, batch))
    return gemms


def timed(gemms: list) -> list:
    rows = []
    for kind, layer, m, n, k in gemms:
        seconds = time_gemm(m, n, k, kind)
        flops = 2.0 * m * n * k
        rows.append({"kind": kind, "layer": layer, "m": m, "n": n, "k": k, "flops": flops,
                     "seconds": seconds, "gflops": flops / seconds / 1e9})
    return rows


def forward_bound(model: str, rows: int, batch: int, layers=None) -> dict:
    """GEMM-bound seconds for a forward pass over ``rows`` samples in batches of ``batch``."""
    gemms = [g for g in step_gemms(model, batch, training=False) if layers is None or g[1] in layers]
    timings = timed(gemms)
    per_batch = sum(t["seconds"] for t in timings)
    flops = sum(t["flops"] for t in timings) * rows / batch
    return {"batch": batch, "gemms": timings, "flops": flops, "seconds": per_batch * rows / batch,
            "gflops": flops / (per_batch * rows / batch) / 1e9}


def training_bound(model: str, n_train: int, n_val: int) -> dict:
    step = timed(step_gemms(model, common.BATCH_SIZE, training=True))
    steps = n_train / common.BATCH_SIZE
    train_seconds = sum(t["seconds"] for t in step) * steps
    train_flops = sum(t["flops"] for t in step) * steps
    issue_flops = 3 * sum(2.0 * common.BATCH_SIZE * i * o for i, o in common.layers(model)) * steps
    val = forward_bound(model, n_val, EVAL_BATCH)
    return {"model": model, "batch": common.BATCH_SIZE, "steps_per_epoch": steps, "gemms": step,
            "train_flops": train_flops, "train_flops_issue": issue_flops, "train_seconds": train_seconds,
            "train_gflops": train_flops / train_seconds / 1e9, "val": val,
            "epoch_seconds": train_seconds + val["seconds"], "epoch_flops": train_flops + val["flops"]}


def main() -> None:
    args = common.parse_args()
    n_train, n_val = args.get("n_train") or 60_000, args.get("n_val") or 10_000
    clock = common.Clock()
    square = timed([("forward", 0, 2048, 2048, 2048)])[0]
    bounds = {m: training_bound(m, n_train, n_val) for m in args.get("models", list(common.MODELS))}
    common.emit("gemm", args, threads={"torch": torch.get_num_threads()}, versions={"torch": torch.__version__},
                mkl=torch.backends.mkl.is_available(), square_2048_gflops=square["gflops"], bounds=bounds,
                cpu_wait=clock.cpu_wait())


if __name__ == "__main__":
    main()
