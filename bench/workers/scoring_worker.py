"""Scoring throughput: aekit's score_samples (encode + reconstruct + per-sample error) and transform
on ``rows`` x 784 float32 rows (MNIST's training images tiled; 1,000,000 rows are 3.1 GB).

The model is first trained for one epoch on the training images (the weights do not change the cost).
Each call is made once untimed (warm-up), then timed ``repeats`` times; the median is compared with the GEMM-bound time of the same forward
GEMMs in batches of 8192 rows (the GEMMs' best rate here), timed in this process with torch's thread count.
"""
from __future__ import annotations

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from aekit_worker import make_estimator  # noqa: E402
from gemm_worker import forward_bound  # noqa: E402

#: the GEMM bound is timed at this batch (large batches run GEMMs fastest); aekit itself scores in 2048-row batches
SCORE_BATCH = 8192


def tiled(x: np.ndarray, rows: int) -> np.ndarray:
    out = np.empty((rows, x.shape[1]), dtype=np.float32)
    for i in range(0, rows, len(x)):
        out[i:i + len(x)] = x[:rows - i]
    return out


def median_seconds(fn, repeats: int) -> tuple:
    """Median of ``repeats`` timed calls after one untimed warm-up call (returned as the last item).

    The first call on a fresh 3 GB array was about twice as slow here (probably faulting in fresh pages
    for the outputs); later calls reuse that memory.
    """
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), samples, first


def main() -> None:
    args = common.parse_args()
    rows, repeats = int(args.get("rows", 1_000_000)), int(args.get("repeats", 3))
    x_train, _ = common.load_mnist({**args, "n_val": 1})
    est = make_estimator(args["model"], epochs=1, seed=args["seed"]).fit(x_train)
    big = tiled(x_train, rows)
    del x_train
    n_layers = len(common.layers(args["model"]))
    encoder_layers = set(range(n_layers // 2))
    clock = common.Clock()
    score_s, score_all, score_first = median_seconds(lambda: est.score_samples(big), repeats)
    transform_s, transform_all, transform_first = median_seconds(lambda: est.transform(big), repeats)
    score_bound = forward_bound(args["model"], rows, SCORE_BATCH)
    transform_bound = forward_bound(args["model"], rows, SCORE_BATCH, layers=encoder_layers)
    common.emit("scoring", args, rows=rows, array_mb=big.nbytes / 1e6,
                score_samples={"seconds": score_s, "all": score_all, "first_call": score_first,
                               "rows_per_s": rows / score_s,
                               "bound_seconds": score_bound["seconds"], "ratio_to_bound": score_s / score_bound["seconds"],
                               "bound_gflops": score_bound["gflops"], "flops": score_bound["flops"]},
                transform={"seconds": transform_s, "all": transform_all, "first_call": transform_first,
                           "rows_per_s": rows / transform_s,
                           "bound_seconds": transform_bound["seconds"],
                           "ratio_to_bound": transform_s / transform_bound["seconds"],
                           "flops": transform_bound["flops"]},
                peak_rss_mb=common.peak_rss_mb(), threads={"torch": torch.get_num_threads()},
                cpu_wait=clock.cpu_wait())


if __name__ == "__main__":
    main()
