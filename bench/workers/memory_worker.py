"""Peak memory of training aekit on the 60k x 784 float32 training array, in a fresh process.

RSS is read three times: after importing aekit (``rss_import_mb``), after loading the array (``rss_data_mb``),
and as the peak during ``fit`` (``peak_fit_mb``: VmHWM, reset after loading so the loader's own transient
does not count; where it cannot be reset it is the process' lifetime peak, and ``hwm_reset`` says so).
No validation data: the array is the only data the process holds.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import aekit  # noqa: E402,F401
import torch  # noqa: E402

from aekit_worker import make_estimator  # noqa: E402


def main() -> None:
    args = common.parse_args()
    rss_import = common.rss_mb()
    x_train, _ = common.load_mnist({**args, "n_val": 1})
    rss_data = common.rss_mb()
    reset = common.reset_peak_rss()
    est = make_estimator(args["model"], epochs=args["epochs"], seed=args["seed"])
    est.fit(x_train)
    peak = common.peak_rss_mb()
    array_mb = x_train.nbytes / 1e6
    common.emit("memory", args, n_train=len(x_train), array_mb=array_mb, rss_import_mb=rss_import,
                rss_data_mb=rss_data, peak_fit_mb=peak, hwm_reset=reset,
                peak_over_import_mb=peak - rss_import, goal_mb=1.5 * array_mb + 300,
                threads={"torch": torch.get_num_threads()})


if __name__ == "__main__":
    main()
