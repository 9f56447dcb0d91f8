"""The numbers and pictures of docs/reduction.md, denoising.md, compression.md and anomaly.md.

    AEKIT_DATA=../shared/data .venv/bin/python bench/applications.py reduction denoising compression anomaly

Each part trains its models on the MNIST training images (seed 0, one CPU thread), measures on the 10000
test images, writes its pictures to docs/img/ and its numbers to bench/out/applications-<part>.json, and
prints Markdown tables. The anomaly part uses the ODDS sets in ../shared/data/odds.
"""
from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
IMG = os.path.join(REPO, "docs", "img")
OUT = os.path.join(BENCH, "out")
EPOCHS = 10  # the machine is shared: 10 epochs over the 60000 training images (reduction: 15)


def setup():
    import matplotlib
    import torch

    matplotlib.use("Agg")
    torch.set_num_threads(1)
    os.makedirs(IMG, exist_ok=True)
    os.makedirs(OUT, exist_ok=True)


def mnist():
    from aekit.datasets import load_mnist

    return load_mnist(download=False)


def save(name: str, payload) -> None:
    with open(os.path.join(OUT, f"applications-{name}.json"), "w") as f:
        json.dump(payload, f, indent=1)


def markdown(rows, columns) -> str:
    def cell(v):
        return "-" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- reduction
def reduction():
    from matplotlib.figure import Figure
    from sklearn.decomposition import PCA

    from aekit import AutoEncoder, plots
    from aekit.applications import compare_with_pca

    ds = mnist()
    rows = []
    for dim in (2, 8):
        start = time.time()
        est = AutoEncoder(latent_dim=dim, hidden=(256, 128), epochs=15, random_state=0).fit(ds.X)
        seconds = time.time() - start
        for row in compare_with_pca(est, ds.X_test, ds.y_test, X_fit=ds.X, max_samples=2000):
            rows.append({**row, "train_seconds": seconds if row["method"] == "autoencoder" else None})
        if dim == 2:
            fig = Figure(figsize=(11, 4.6), layout="constrained")
            a1, a2 = fig.subplots(1, 2)
            plots.plot_codes(est.transform(ds.X_test), ds.y_test, ax=a1, title="autoencoder (784-256-128-2)")
            pca = PCA(2, random_state=0).fit(ds.X)
            plots.plot_codes(pca.transform(ds.X_test), ds.y_test, ax=a2, title="PCA, 2 components")
            fig.savefig(os.path.join(IMG, "reduction_codes.png"), dpi=90)
    save("reduction", rows)
    print(markdown(rows, ["method", "dim", "reconstruction_mse", "trustworthiness", "knn_accuracy"]))


# ------------------------------------------------------------------------------------------- denoising
def denoising():
    from aekit import AutoEncoder, plots
    from aekit.applications.denoising import add_noise, denoise, denoising_scores

    ds = mnist()
    clean = ds.images(ds.X_test)  # (10000, 28, 28)
    rows = []
    for noise in (0.5,):  # the Keras denoising tutorial's noise
        est = AutoEncoder(latent_dim=64, hidden=(256,), noise="gaussian", noise_factor=noise, epochs=EPOCHS,
                          random_state=0).fit(ds.X)
        noisy = add_noise(clean, noise, random_state=1)
        out = denoise(est, noisy)
        rows.append({"noise_std": noise, **denoising_scores(noisy, out, clean)})
        if noise == 0.5:
            ax = plots.plot_image_rows([noisy[:10], out[:10], clean[:10]], (28, 28), ["noisy", "denoised", "clean"],
                                       title="Gaussian noise 0.5, dense denoising autoencoder 784-256-64")
            plots.save_figure(ax, os.path.join(IMG, "denoising_grid.png"))
    save("denoising", rows)
    print(markdown(rows, ["noise_std", "psnr_noisy", "psnr_denoised", "ssim_noisy", "ssim_denoised"]))


# ----------------------------------------------------------------------------------------- compression
def compression():
    from sklearn.decomposition import PCA

    from aekit import AutoEncoder, plots
    from aekit.applications.compression import compress, compression_stats, decompress

    ds = mnist()
    X = ds.X_test
    rows = []
    models = {"aekit k=32": AutoEncoder(latent_dim=32, hidden=(256,), epochs=EPOCHS, random_state=0).fit(ds.X)}
    models.update({f"PCA k={k}": PCA(k, random_state=0).fit(ds.X) for k in (16, 32, 64)})
    for method, model in models.items():
        for bits in (2, 3, 4, 6, 8):
            blob = compress(model, X, bits=bits, codec="lzma")
            s = compression_stats(X, decompress(model, blob), blob)
            rows.append({"method": method, "bits": bits, **s})
            print(json.dumps({k: rows[-1][k] for k in ("method", "bits", "bits_per_sample", "psnr")}), flush=True)
    save("compression", rows)
    compression_figure(rows)
    print(markdown(rows, ["method", "bits", "bits_per_sample", "entropy_bytes_per_sample", "ratio_to_raw",
                          "ratio_to_gzip", "mse", "psnr"]))


def compression_figure(rows=None):
    """The rate-distortion picture; without rows, from bench/out/applications-compression.json."""
    from aekit import plots

    if rows is None:
        with open(os.path.join(OUT, "applications-compression.json")) as f:
            rows = json.load(f)
    ax = plots.plot_rate_distortion(rows)
    ax.set_title("MNIST test set: bits per image vs PSNR (8-bit raw image: 6272 bits)", fontsize="medium")
    plots.save_figure(ax, os.path.join(IMG, "compression_rate_distortion.png"))


# --------------------------------------------------------------------------------------------- anomaly
def anomaly():
    """Calibration on ODDS sets: train on the inliers of the training part; flagged fractions on test inliers."""
    sys.path.insert(0, BENCH)
    from odds import load_set, split

    from aekit import AnomalyDetector, plots

    alphas = (0.01, 0.05, 0.1, 0.2)
    rows = []
    for name in ("cardio", "satimage-2", "pendigits", "shuttle"):
        X, y = load_set(name)
        from sklearn.model_selection import train_test_split

        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.4, random_state=0, stratify=y)
        from sklearn.preprocessing import StandardScaler

        sc = StandardScaler().fit(X_tr[y_tr == 0])
        det = AnomalyDetector(alpha=0.05, random_state=0).fit(sc.transform(X_tr[y_tr == 0]))
        p = det.pvalues(sc.transform(X_te))
        for a in alphas:
            rows.append({"set": name, "alpha": a, "n_test_inliers": int((y_te == 0).sum()),
                         "flagged_inliers": float(np.mean(p[y_te == 0] <= a)),
                         "flagged_outliers": float(np.mean(p[y_te == 1] <= a))})
        if name == "cardio":
            # the contaminated setting of the benchmark: trained on all of the training part
            X_tr2, X_te2, y_te2 = split(X, y, 0)
            det2 = AnomalyDetector(contamination=0.1, random_state=0).fit(X_tr2)
            ax = plots.plot_score_histogram(-det2.score_samples(X_te2), y_te2, -det2.threshold_,
                                            title="cardio (ODDS), test part: aekit's default detector", log=True)
            plots.save_figure(ax, os.path.join(IMG, "anomaly_scores_cardio.png"))
    save("anomaly", rows)
    ax = None
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.5, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for name in dict.fromkeys(r["set"] for r in rows):
        pts = [r for r in rows if r["set"] == name]
        ax.plot([r["alpha"] for r in pts], [r["flagged_inliers"] for r in pts], "o-", label=name)
    ax.plot([0, 0.22], [0, 0.22], ":", color="grey", label="flagged = alpha")
    ax.set_xlabel("alpha")
    ax.set_ylabel("fraction of test inliers flagged")
    ax.set_title("Conformal threshold: false alarms vs alpha")
    ax.legend(fontsize="small")
    fig.savefig(os.path.join(IMG, "anomaly_calibration.png"), dpi=90)
    print(markdown(rows, ["set", "alpha", "n_test_inliers", "flagged_inliers", "flagged_outliers"]))


if __name__ == "__main__":
    setup()
    parts = {"reduction": reduction, "denoising": denoising, "compression": compression, "anomaly": anomaly,
             "compression-figure": compression_figure}
    for part in sys.argv[1:] or ("reduction", "denoising", "compression", "anomaly"):
        start = time.time()
        print(f"## {part}", flush=True)
        parts[part]()
        print(f"({time.time() - start:.0f} s)", flush=True)
