"""aekit's estimator on the workload. Runs in aekit's own virtual environment.

Epoch time: ``history_["seconds"]``, which aekit measures around the training pass plus the validation pass.
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


def make_estimator(model: str, epochs: int, validation_data=None, seed: int = 0) -> AutoEncoder:
    spec = common.MODELS[model]
    return AutoEncoder(latent_dim=spec["latent"], hidden=tuple(spec["hidden"]), activation="relu",
                       latent_activation="relu", output_activation="sigmoid", loss="bce", epochs=epochs,
                       batch_size=256, learning_rate=1e-3, optimizer="adam", scaling=None,
                       validation_data=validation_data, random_state=seed, verbose=0)


def reconstructor(est: AutoEncoder):
    """``predict`` gives the reconstruction; fall back to inverse_transform(transform(x)) if it does not."""
    def reconstruct(xb: np.ndarray) -> np.ndarray:
        out = np.asarray(est.predict(xb))
        if out.shape != xb.shape:
            out = np.asarray(est.inverse_transform(est.transform(xb)))
        return out
    return reconstruct


def main() -> None:
    args = common.parse_args()
    x_train, x_val = common.load_mnist(args)
    est = make_estimator(args["model"], args["epochs"], validation_data=x_val, seed=args["seed"])
    clock = common.Clock()
    est.fit(x_train)
    fit_seconds, cpu_wait = clock.lap(), clock.cpu_wait()
    peak = common.peak_rss_mb()
    history = est.history_
    final = common.final_losses(reconstructor(est), x_train, x_val)
    common.emit("aekit", args, n_train=len(x_train), n_val=len(x_val), seconds=list(history["seconds"]),
                fit_seconds=fit_seconds, cpu_wait=cpu_wait, loss=list(history["loss"]),
                val_loss=list(history.get("val_loss", [])),
                peak_rss_mb=peak, final=final,
                versions={"aekit": getattr(aekit, "__version__", "?"), "torch": torch.__version__},
                threads={"torch": torch.get_num_threads()})


if __name__ == "__main__":
    main()
