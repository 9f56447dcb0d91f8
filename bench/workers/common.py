"""What every benchmark worker shares: MNIST from the IDX files, the two models, timing, memory, the result line.

Only numpy and the standard library: workers run in the peers' virtual environments, which cannot import aekit.
A worker is called as ``python worker.py '<json args>'`` and prints its result as one line ``RESULT {json}``.
"""
from __future__ import annotations

import gzip
import json
import os
import platform
import resource
import sys
import time

import numpy as np

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA_DIR = os.path.normpath(os.path.join(BENCH_DIR, "..", "..", "shared", "data", "mnist"))

#: hidden widths of the encoder; the decoder mirrors them. 784-32-784 and 784-128-64-32-64-128-784.
MODELS = {
    "tutorial": {"hidden": [], "latent": 32},
    "deep": {"hidden": [128, 64], "latent": 32},
}
#: the other kinds (issue 15): each trains on MNIST images as (n, 28, 28), Adam 1e-3, sigmoid output + BCE.
#: conv-blog: the Keras blog's conv autoencoder (4,385 weights); conv-io: keras-io's (28,353); conv-vae:
#: keras-io's VAE (134,165; loss = BCE summed per image + KL); lstm: LSTM(64) -> Dense(32) -> RepeatVector(28)
#: -> LSTM(64) -> per-step Dense(28) over the 28 rows of an image (28 steps x 28 features).
KINDS = {
    "conv-blog": {"batch_size": 128, "weights": 4385},
    "conv-io": {"batch_size": 128, "weights": 28353},
    "conv-vae": {"batch_size": 128, "weights": 134165},
    "lstm": {"batch_size": 128, "hidden": 64, "latent": 32},
}
N_FEATURES = 784
BATCH_SIZE = 256
LEARNING_RATE = 1e-3
EPS = 1e-7  # Keras' clip for binary_crossentropy on probabilities


def widths(model: str) -> list:
    """Layer widths input -> output, e.g. [784, 32, 784]."""
    spec = MODELS[model]
    return [N_FEATURES, *spec["hidden"], spec["latent"], *reversed(spec["hidden"]), N_FEATURES]


def layers(model: str) -> list:
    """(fan_in, fan_out) of each dense layer; every activation is relu except the final sigmoid."""
    w = widths(model)
    return list(zip(w[:-1], w[1:]))


def parse_args() -> dict:
    args = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    args.setdefault("model", "tutorial")
    args.setdefault("epochs", 3)
    args.setdefault("seed", 0)
    args.setdefault("data_dir", DEFAULT_DATA_DIR)
    if args["model"] not in MODELS and args["model"] not in KINDS:
        raise SystemExit(f"unknown model {args['model']!r}; known: {', '.join([*MODELS, *KINDS])}")
    return args


def _read_images(path: str, limit=None) -> np.ndarray:
    """IDX3 images as float32 in [0, 1], (n, 784); converted in blocks so the peak stays near the output size."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    n, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    pixels = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, rows * cols)
    if limit is not None:
        pixels = pixels[:limit]
    out = np.empty(pixels.shape, dtype=np.float32)
    for i in range(0, len(pixels), 10_000):
        block = out[i:i + 10_000]
        block[:] = pixels[i:i + 10_000]
        block /= 255.0
    return out


def load_mnist(args: dict) -> tuple:
    """(x_train, x_val): the 60k training images and the 10k test images, or the first n_train / n_val."""
    d = args["data_dir"]
    x_train = _read_images(os.path.join(d, "train-images-idx3-ubyte.gz"), args.get("n_train"))
    x_val = _read_images(os.path.join(d, "t10k-images-idx3-ubyte.gz"), args.get("n_val"))
    return x_train, x_val


def load_images(args: dict) -> tuple:
    """(x_train, x_val) as (n, 28, 28) float32 in [0, 1]: what every non-dense kind trains on."""
    x_train, x_val = load_mnist(args)
    return x_train.reshape(-1, 28, 28), x_val.reshape(-1, 28, 28)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (10**6 bytes): VmHWM, else ru_maxrss."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def rss_mb() -> float:
    """Resident set size now, in MB (10**6 bytes)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


def reset_peak_rss() -> bool:
    """Linux lets a process reset its VmHWM by writing 5 to clear_refs; False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def reconstruction_errors(reconstruct, x: np.ndarray, chunk: int = 5000) -> dict:
    """Per-pixel BCE (outputs clipped to [eps, 1-eps], as Keras does) and MSE of ``reconstruct`` over ``x``.

    The same numpy code for every implementation, so the losses compare across libraries.
    """
    bce = mse = 0.0
    for i in range(0, len(x), chunk):
        xb = x[i:i + chunk].astype(np.float64)
        rb = np.asarray(reconstruct(x[i:i + chunk]), dtype=np.float64).reshape(xb.shape)
        mse += float(np.square(rb - xb).sum())
        p = np.clip(rb, EPS, 1.0 - EPS)
        bce -= float((xb * np.log(p) + (1.0 - xb) * np.log1p(-p)).sum())
    return {"bce": bce / x.size, "mse": mse / x.size}


def final_losses(reconstruct, x_train: np.ndarray, x_val: np.ndarray) -> dict:
    train, val = reconstruction_errors(reconstruct, x_train), reconstruction_errors(reconstruct, x_val)
    return {"train_bce": train["bce"], "val_bce": val["bce"], "train_mse": train["mse"], "val_mse": val["mse"]}


def _queue_wait_ns() -> dict:
    """Nanoseconds each of this process' threads has spent runnable but waiting for a CPU (schedstat)."""
    waits = {}
    try:
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/schedstat") as f:
                    waits[tid] = int(f.read().split()[1])
            except (OSError, IndexError, ValueError):
                pass
    except OSError:
        pass
    return waits


class Clock:
    """perf_counter marks: ``lap()`` returns seconds since the previous mark.

    It also watches contention: ``cpu_wait()`` is the time this process' threads spent ready to run but
    waiting for a CPU since the clock started, per second of wall time (0 on an idle machine; threads that
    ended meanwhile are not counted).
    """

    def __init__(self):
        self.t = self.start = time.perf_counter()
        self._waits = _queue_wait_ns()

    def lap(self) -> float:
        now = time.perf_counter()
        dt, self.t = now - self.t, now
        return dt

    def cpu_wait(self) -> float:
        now = _queue_wait_ns()
        waited = sum(v - self._waits.get(tid, 0) for tid, v in now.items()) / 1e9
        return waited / max(1e-9, time.perf_counter() - self.start)


def emit(impl: str, args: dict, **fields) -> None:
    """Print the one result line the driver reads."""
    result = {
        "impl": impl,
        "model": args["model"],
        "epochs": args["epochs"],
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        **fields,
    }
    sys.stdout.flush()
    print("RESULT " + json.dumps(result), flush=True)
