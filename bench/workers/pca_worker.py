"""scikit-learn's PCA with as many components as the autoencoders' code (32): the linear baseline.

One "epoch" is one complete ``fit`` on the training images (PCA has no epochs); the first is the warm-up.
Its losses are those of ``inverse_transform(transform(x))`` clipped to [eps, 1-eps].
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import sklearn  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from threadpoolctl import threadpool_info  # noqa: E402


def main() -> None:
    args = common.parse_args()
    x_train, x_val = common.load_mnist(args)
    seconds = []
    clock = common.Clock()
    for _ in range(args["epochs"]):
        t0 = time.perf_counter()
        pca = PCA(n_components=common.MODELS[args["model"]]["latent"], random_state=args["seed"]).fit(x_train)
        seconds.append(time.perf_counter() - t0)
    fit_seconds, cpu_wait = clock.lap(), clock.cpu_wait()
    peak = common.peak_rss_mb()
    final = common.final_losses(lambda xb: pca.inverse_transform(pca.transform(xb)), x_train, x_val)
    pools = [{"api": p["internal_api"], "threads": p["num_threads"]} for p in threadpool_info()]
    common.emit("pca", args, n_train=len(x_train), n_val=len(x_val), seconds=seconds, fit_seconds=fit_seconds,
                cpu_wait=cpu_wait, loss=[], val_loss=[], peak_rss_mb=peak, final=final,
                versions={"scikit-learn": sklearn.__version__}, threads={"blas": pools},
                svd_solver=pca._fit_svd_solver, explained_variance=float(pca.explained_variance_ratio_.sum()))


if __name__ == "__main__":
    main()
