"""Do the default settings train well on small data? ``python bench/defaults.py``

For each small set: trustworthiness (5 neighbours) of the 2-D code of ``AutoEncoder(random_state=0)``
against PCA's, and the reconstruction MSE in min-max units, for a fixed 50 epochs (the old default) and
for ``epochs='auto'`` (the default: at least 3,000 optimizer steps). One thread, so runs can share a machine.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness
from sklearn.preprocessing import MinMaxScaler

from aekit import AutoEncoder
from aekit.datasets import load_digits

ODDS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "odds"


def small_sets() -> dict:
    sets = {"digits": load_digits().X, "wine": load_wine().data, "breast_cancer": load_breast_cancer().data}
    for name in ("cardio", "satellite"):
        if (ODDS / f"{name}.mat").is_file():
            import scipy.io

            sets[name] = scipy.io.loadmat(ODDS / f"{name}.mat")["X"][:3000]
    return {k: np.asarray(v, dtype=np.float32) for k, v in sets.items()}


def main() -> None:
    torch.set_num_threads(1)
    print("| data | shape | PCA trust | PCA mse | epochs | seconds | AE trust | AE mse |")
    print("|---|---|---|---|---|---|---|---|")
    for name, X in small_sets().items():
        Xm = MinMaxScaler().fit_transform(X)
        pca = PCA(2, random_state=0).fit(Xm)
        pca_t = trustworthiness(Xm, pca.transform(Xm), n_neighbors=5)
        pca_mse = float(np.mean((pca.inverse_transform(pca.transform(Xm)) - Xm) ** 2))
        for epochs in (50, "auto"):
            start = time.perf_counter()
            est = AutoEncoder(epochs=epochs, random_state=0).fit(X)
            seconds = time.perf_counter() - start
            trust = trustworthiness(Xm, est.transform(X), n_neighbors=5)
            mse = float(np.mean((est.scaler_.transform(est.predict(X)) - est.scaler_.transform(X)) ** 2))
            print(f"| {name} | {X.shape} | {pca_t:.3f} | {pca_mse:.4f} | {epochs} ({len(est.history_['loss'])}) "
                  f"| {seconds:.1f} | {trust:.3f} | {mse:.4f} |", flush=True)


if __name__ == "__main__":
    main()
