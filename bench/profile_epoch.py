"""Where one aekit training epoch spends its CPU time: ``python bench/profile_epoch.py [tutorial|deep]``.

Trains the benchmark's model (bench/workers/common.py) for one warm-up epoch on 5,000 images, then profiles
one epoch on MNIST's 60,000 with ``torch.profiler`` and prints the share of each kind of kernel. The
profiler adds its own overhead (about a tenth here), so read shares, not seconds.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "workers"))
import common  # noqa: E402

from torch.profiler import ProfilerActivity, profile  # noqa: E402

from aekit_worker import make_estimator  # noqa: E402

#: aten operator -> what it does in a dense autoencoder's step
KINDS = {
    "matrix products": ("aten::addmm", "aten::mm"),
    "sigmoid and loss value": ("aten::sigmoid_", "aten::clamp_min_", "aten::prod", "aten::log_", "aten::dot",
                               "aten::sub_", "aten::div_"),
    "batch gather": ("aten::index_select",),
    "Adam": ("aten::_fused_adam_", "aten::add_"),
    "bias sums, ReLU": ("aten::sum", "aten::relu_", "aten::threshold_backward"),
}


def main() -> None:
    model = sys.argv[1] if len(sys.argv) > 1 else "tutorial"
    data_dir = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
                                             "data", "mnist"))
    x, _ = common.load_mnist({"data_dir": os.environ.get("MNIST_DIR", data_dir), "n_val": 1})
    make_estimator(model, 1).fit(x[:5000])
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        est = make_estimator(model, 1).fit(x)
    epoch = est.history_["seconds"][0]
    self_us = {e.key: e.self_cpu_time_total for e in prof.key_averages()}
    total = sum(self_us.values())
    print(f"{model}: one epoch {epoch:.3f} s under the profiler; CPU time by kind of kernel:")
    seen = set()
    for kind, ops in KINDS.items():
        share = sum(self_us.get(op, 0.0) for op in ops) / total
        seen.update(ops)
        print(f"  {kind:24s} {100 * share:5.1f}%")
    rest = sorted(((v, k) for k, v in self_us.items() if k not in seen), reverse=True)[:5]
    print(f"  {'everything else':24s} {100 * sum(v for k, v in self_us.items() if k not in seen) / total:5.1f}%"
          f"  (largest: {', '.join(f'{k} {100 * v / total:.1f}%' for v, k in rest)})")


if __name__ == "__main__":
    main()
