"""aekit's estimator on the non-dense kinds (common.KINDS), in aekit's own virtual environment.

The layouts of bench/reproduce.py's runs (docs/results.md), which are the Keras models layer for layer;
images as ``(n, 28, 28)`` (one channel), the LSTM's rows as 28 steps of 28 features. Epoch time:
``history_["seconds"]`` (training pass plus validation pass).
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import aekit  # noqa: E402
from aekit import AutoEncoder  # noqa: E402

#: kind -> the estimator's parameters
PARAMS = {
    "conv-blog": dict(kind="conv", filters=(16, 8, 8), downsample="pool", upsample="upsample", bottleneck="conv"),
    "conv-io": dict(kind="conv", filters=(32, 32), downsample="pool", upsample="transpose", bottleneck="conv"),
    "conv-vae": dict(kind="conv_vae", filters=(32, 64), downsample="stride", upsample="transpose", hidden=(16,),
                     decoder_hidden=(), latent_dim=2),
    "lstm": dict(kind="lstm", hidden=(common.KINDS["lstm"]["hidden"],), latent_dim=common.KINDS["lstm"]["latent"]),
}


def make_estimator(kind: str, epochs: int, validation_data=None, seed: int = 0) -> AutoEncoder:
    return AutoEncoder(**PARAMS[kind], activation="relu", output_activation="sigmoid", loss="bce", epochs=epochs,
                       batch_size=common.KINDS[kind]["batch_size"], learning_rate=1e-3, optimizer="adam",
                       scaling=None, validation_data=validation_data, random_state=seed, verbose=0)


def main() -> None:
    args = common.parse_args()
    kind = args["model"]
    x_train, x_val = common.load_images(args)
    est = make_estimator(kind, args["epochs"], validation_data=x_val, seed=args["seed"])
    clock = common.Clock()
    est.fit(x_train)
    fit_seconds, cpu_wait = clock.lap(), clock.cpu_wait()
    peak = common.peak_rss_mb()
    history = est.history_
    final = common.final_losses(lambda xb: np.asarray(est.predict(xb)), x_train, x_val)
    common.emit("aekit", args, n_train=len(x_train), n_val=len(x_val), seconds=list(history["seconds"]),
                fit_seconds=fit_seconds, cpu_wait=cpu_wait, loss=list(history["loss"]),
                val_loss=list(history.get("val_loss", [])), peak_rss_mb=peak, final=final,
                versions={"aekit": getattr(aekit, "__version__", "?"), "torch": torch.__version__},
                threads={"torch": torch.get_num_threads()})


if __name__ == "__main__":
    main()
