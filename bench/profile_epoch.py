"""Where one aekit training epoch spends its CPU time, per kind of model:

    python bench/profile_epoch.py --kind dense [--model tutorial|deep]   # 60,000 images
    python bench/profile_epoch.py --kind conv [--model conv-io|conv-blog|conv-vae]   # 6,400 images
    python bench/profile_epoch.py --kind lstm   # 6,400 images as 28 steps x 28 features

Trains the benchmark's model (bench/workers/common.py, the same estimators as the compare.py workers) for
one warm-up epoch on a few images, then profiles one epoch with ``torch.profiler`` and prints the share of
each kind of kernel (self CPU time), and the largest of the rest. The profiler adds its own overhead
(about a tenth here), so read shares, not seconds. ``--threads`` sets torch's threads (default: aekit's
choice, which it restores after fitting).
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "workers"))
import common  # noqa: E402

import torch  # noqa: E402
from torch.profiler import ProfilerActivity, profile  # noqa: E402

import aekit_kinds_worker  # noqa: E402
import aekit_worker  # noqa: E402

#: what every kind's step does around its layers
SHARED = {
    "loss (sigmoid, log, BCE, its gradient)": ("aten::sigmoid_", "aten::clamp_min_", "aten::prod", "aten::log_",
                                               "aten::dot", "aten::sub_", "aten::div_", "aten::mul_",
                                               "_BCEWithLogitsMean", "aten::log", "aten::exp", "aten::mul"),
    "Adam": ("aten::_fused_adam_", "aten::add_"),
    "batch gather": ("aten::index_select",),
}
#: kind -> {what: aten operators}
KINDS = {
    "dense": {
        "matrix products": ("aten::addmm", "aten::mm"),
        "bias sums, ReLU": ("aten::sum", "aten::relu_", "aten::threshold_backward"),
    },
    "conv": {
        "convolutions (oneDNN), forward": ("aten::mkldnn_convolution", "aten::_convolution", "aten::convolution"),
        "convolutions, backward": ("aten::convolution_backward",),
        "pooling, upsampling": ("aten::max_pool2d_with_indices", "aten::max_pool2d_with_indices_backward",
                                "aten::upsample_nearest2d", "aten::upsample_nearest2d_backward"),
        "ReLU": ("aten::clamp_min", "aten::relu", "aten::threshold_backward"),
        "layout copies, crops, zero fills": ("aten::copy_", "aten::fill_", "aten::zero_", "_Crop", "_CropBackward",
                                             "aten::contiguous", "aten::clone"),
        "dense layers": ("aten::addmm", "aten::mm", "aten::sum"),
    },
    "lstm": {
        "LSTM layers (oneDNN), forward": ("aten::mkldnn_rnn_layer", "aten::lstm", "aten::_thnn_fused_lstm_cell"),
        "LSTM layers, backward": ("aten::mkldnn_rnn_layer_backward", "aten::_thnn_fused_lstm_cell_backward_impl"),
        "per-step dense layer, code": ("aten::addmm", "aten::mm", "aten::bmm", "aten::sum", "aten::linear"),
        "copies (repeat, layout)": ("aten::copy_", "aten::fill_", "aten::zero_", "aten::cat", "aten::stack",
                                    "aten::clone", "aten::contiguous"),
    },
}
DEFAULT_MODEL = {"dense": "tutorial", "conv": "conv-io", "lstm": "lstm"}


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kind", choices=tuple(KINDS), default="dense")
    p.add_argument("--model", default=None, help="tutorial|deep (dense); conv-io|conv-blog|conv-vae (conv)")
    p.add_argument("--n", type=int, default=None, help="images in the profiled epoch (dense 60,000, else 6,400)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--data-dir", default=os.environ.get("MNIST_DIR", common.DEFAULT_DATA_DIR))
    p.add_argument("model_name", nargs="?", default=None, help="(old form) tutorial or deep")
    args = p.parse_args(argv)
    args.model = args.model or args.model_name or DEFAULT_MODEL[args.kind]
    allowed = {"dense": ("tutorial", "deep"), "conv": ("conv-io", "conv-blog", "conv-vae"), "lstm": ("lstm",)}
    if args.model not in allowed[args.kind]:
        p.error(f"--kind {args.kind} profiles one of {', '.join(allowed[args.kind])}; got --model {args.model!r}")
    return args


def estimator_and_data(args):
    if args.kind == "dense":
        x, _ = common.load_mnist({"data_dir": args.data_dir, "n_train": args.n, "n_val": 1})
        return (lambda epochs: aekit_worker.make_estimator(args.model, epochs)), x
    x, _ = common.load_images({"data_dir": args.data_dir, "n_train": args.n or 6400, "n_val": 1})
    return (lambda epochs: aekit_kinds_worker.make_estimator(args.model, epochs)), x


def main(argv=None) -> None:
    args = parse(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    make, x = estimator_and_data(args)
    make(1).fit(x[:1024])  # warm-up: oneDNN primitives, allocator
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        est = make(1).fit(x)
    epoch = est.history_["seconds"][0]
    self_us = {e.key: e.self_cpu_time_total for e in prof.key_averages()}
    total = sum(self_us.values())
    print(f"{args.model} ({args.kind}, {len(x):,} samples): one epoch {epoch:.3f} s under the profiler "
          f"({len(x) / epoch:,.0f} samples/s); CPU time by kind of kernel:")
    seen = set()
    for what, ops in {**KINDS[args.kind], **SHARED}.items():
        ops = [op for op in ops if op not in seen]
        seen.update(ops)
        print(f"  {what:40s} {100 * sum(self_us.get(op, 0.0) for op in ops) / total:5.1f}%")
    rest = sorted(((v, k) for k, v in self_us.items() if k not in seen), reverse=True)[:5]
    print(f"  {'everything else':40s} {100 * sum(v for k, v in self_us.items() if k not in seen) / total:5.1f}%"
          f"  (largest: {', '.join(f'{k} {100 * v / total:.1f}%' for v, k in rest)})")


if __name__ == "__main__":
    main()
