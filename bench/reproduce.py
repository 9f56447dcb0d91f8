"""The published-numbers runs of issue 3, on real MNIST: ``python bench/reproduce.py RUN [--epochs N]``.

Each run trains one tutorial model with aekit under the tutorial's protocol and writes a JSON record
(the command, the protocol actually run, per-epoch history, final figures, seconds) to
``docs/results/RUN.json``; ``docs/results.md`` quotes those records and nothing else.
``--epochs`` shortens a protocol; the record says so. Runs use one thread so two can share a machine.

    AEKIT_DATA=/path/to/data python bench/reproduce.py dense
    python bench/reproduce.py --list
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from aekit import AutoEncoder
from aekit.datasets import load_mnist
from aekit.training import ProgressBar, TrainConfig, Trainer
from aekit.training.callbacks import Callback
from aekit.training.device import resolve_device

ROOT = Path(__file__).resolve().parents[1]

#: name -> (published figures, protocol, estimator parameters, data form)
RUNS = {
    "dense": dict(
        published="train/val loss about 0.09 (Keras blog, 50 epochs)",
        params=dict(kind="dense", hidden=(), latent_dim=32, latent_activation="relu", epochs=50, batch_size=256),
        data="flat"),
    "sparse": dict(
        published="train 0.11, test 0.10; mean code activation 3.33 (Keras blog, 100 epochs)",
        params=dict(kind="dense", hidden=(), latent_dim=32, latent_activation="relu", activity_l1=1e-4,
                    epochs=100, batch_size=256),
        data="flat"),
    "deep": dict(
        published="train/val loss about 0.08 (Keras blog, 100 epochs)",
        params=dict(kind="dense", hidden=(128, 64), latent_dim=32, latent_activation="relu", epochs=100,
                    batch_size=256),
        data="flat"),
    "conv_blog": dict(
        published="val loss 0.094 (Keras blog, 50 epochs, batch 128)",
        params=dict(kind="conv", filters=(16, 8, 8), downsample="pool", upsample="upsample", bottleneck="conv",
                    activation="relu", epochs=50, batch_size=128),
        data="images"),
    "conv_transpose": dict(
        published="train 0.0626, val 0.0622 (keras-io convolutional autoencoder, 50 epochs, batch 128)",
        params=dict(kind="conv", filters=(32, 32), downsample="pool", upsample="transpose", bottleneck="conv",
                    activation="relu", epochs=50, batch_size=128),
        data="images"),
    "conv_denoise": dict(
        published="val 0.0839 (keras-io, the conv_transpose model then 100 epochs on noise factor 0.4)",
        params=dict(kind="conv", filters=(32, 32), downsample="pool", upsample="transpose", bottleneck="conv",
                    activation="relu", epochs=100, batch_size=128),
        data="noisy_images", warm_start="conv_transpose", noise_factor=0.4),
    "conv_vae": dict(
        published="loss 146.95 = reconstruction 140.15 + KL 6.80, summed per image (keras-io VAE, 30 epochs)",
        params=dict(kind="conv_vae", filters=(32, 64), downsample="stride", upsample="transpose", hidden=(16,),
                    decoder_hidden=(), latent_dim=2, activation="relu", epochs=30, batch_size=128),
        data="all_images"),
}


#: the published per-epoch logs, where the tutorial prints them (first 10 epochs), for same-epoch comparisons.
#: keras-io autoencoder.md (Keras 3 run): val_loss per epoch. keras-io vae.md: reconstruction_loss and kl_loss
#: per epoch (its progress bar's "loss" averages running means over the epoch, so compare their sum instead).
PUBLISHED_CURVES = {
    "conv_transpose": {"val_loss": [0.0723, 0.0691, 0.0677, 0.0669, 0.0664, 0.0660, 0.0657, 0.0654, 0.0651, 0.0648],
                       "loss": [0.2537, 0.0718, 0.0695, 0.0682, 0.0673, 0.0668, 0.0664, 0.0661, 0.0657, 0.0655]},
    "conv_vae": {"reconstruction": [205.1592, 166.0741, 157.1289, 153.2397, 150.9847, 149.4794, 148.2143, 147.2314,
                                    146.4478, 145.7807],
                 "kl": [3.9604, 5.6646, 5.9575, 6.1860, 6.2957, 6.3866, 6.4271, 6.4529, 6.4943, 6.5371]},
    # after 50 clean epochs; ours goes on from fewer, so this is a target, not a same-start comparison
    "conv_denoise": {"val_loss": [0.0922, 0.0904, 0.0895, 0.0888, 0.0882, 0.0878, 0.0874, 0.0871, 0.0869, 0.0868]},
}


def same_epoch_table(results: Path) -> str:
    """aekit vs the published log at each epoch aekit reached (runs with a published per-epoch log)."""
    rows = ["| run | epoch | quantity | published | aekit |", "|---|---|---|---|---|"]
    for name, curves in PUBLISHED_CURVES.items():
        path = results / f"{name}.json"
        if not path.exists():
            continue
        h = json.loads(path.read_text())["history"]
        for epoch in range(min(len(h["loss"]), 10)):
            for key, values in curves.items():
                rows.append(f"| {name} | {epoch + 1} | {key} | {values[epoch]:.4f} | {h[key][epoch]:.4f} |")
            if name == "conv_vae":
                pub = curves["reconstruction"][epoch] + curves["kl"][epoch]
                rows.append(f"| {name} | {epoch + 1} | reconstruction + kl | {pub:.4f} | {h['loss'][epoch]:.4f} |")
    return "\n".join(rows)


def spread_table(results: Path) -> str:
    """Every seed of a run, as committed (``RUN.json`` and ``seeds/``), in each ``experiments/VARIANT/``, and
    the peer's own runs of the VAE (``peers/``)."""
    rows = ["| run | variant | seeds | final figure per seed | median | published |", "|---|---|---|---|---|---|"]
    for name in ("deep", "conv_transpose", "conv_denoise", "conv_vae"):
        groups = {"as committed": [results / f"{name}.json", *sorted((results / "seeds").glob(f"{name}_seed*.json"))]}
        for folder in sorted(p for p in (results / "experiments").glob("*") if p.is_dir()):
            groups[folder.name] = sorted(folder.glob(f"{name}_seed*.json"))
        for variant, paths in groups.items():
            records = [json.loads(p.read_text()) for p in paths if p.exists()]
            records = [r for r in records if not r["protocol"].get("shortened")]
            if not records:
                continue
            key = "loss" if name == "conv_vae" else "val_loss"
            values = {r["protocol"]["seed"]: r["final"][key] for r in records}
            rows.append(_spread_row(name, variant, key, values))
    # the peer itself under the same seeds: bench/keras_vae.py (Keras 3, JAX backend)
    peers = [json.loads(p.read_text()) for p in sorted((results / "peers").glob("keras_vae_seed*.json"))]
    if peers:
        rows.append(_spread_row("conv_vae", "Keras 3 / JAX, keras-io's model", "loss",
                                {r["seed"]: r["loss"][-1] for r in peers}))
    return "\n".join(rows)


def _spread_row(name: str, variant: str, key: str, values: dict) -> str:
    digits = 2 if name == "conv_vae" else 4
    listed = ", ".join(f"{v:.{digits}f}" for _, v in sorted(values.items()))
    return (f"| {name} | {variant} | {', '.join(map(str, sorted(values)))} | {key} {listed} | "
            f"{float(np.median(list(values.values()))):.{digits}f} | {RUNS[name]['published']} |")


def prepare(run: dict, ds, seed: int):
    """(X, Y or None, validation_data) in the form the protocol trains on."""
    if run["data"] == "flat":
        return ds.X, None, ds.X_test
    images, test = ds.images()[:, None], ds.images(ds.X_test)[:, None]  # (n, 1, 28, 28)
    if run["data"] == "images":
        return images, None, test
    if run["data"] == "all_images":  # keras-io's VAE trains on train + test, without validation
        return np.concatenate([images, test]), None, None
    # keras-io's denoising: one fixed noisy copy of each image, clipped to [0, 1]
    rng = np.random.default_rng(seed)
    f = run["noise_factor"]
    noisy = lambda a: np.clip(a + f * rng.normal(size=a.shape), 0, 1).astype(np.float32)  # noqa: E731
    return noisy(images), images, (noisy(test), test)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", nargs="?", choices=sorted(RUNS))
    p.add_argument("--epochs", type=int, default=None, help="shorten the protocol to this many epochs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", type=Path, default=None, help="JSON record (default docs/results/RUN.json)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="auto", help="'auto' (a GPU when there is one), 'cpu' or 'cuda'")
    p.add_argument("--autograd", action="store_true",
                   help="dense runs: train through autograd, not the hand-written dense step (an experiment)")
    p.add_argument("--no-tf32", action="store_true",
                   help="GPU convolutions in full float32 (torch lets cuDNN use TF32 by default)")
    p.add_argument("--start-from", type=Path, default=None,
                   help="conv_denoise: the conv_transpose record (JSON; its weights beside it) to go on from")
    p.add_argument("--list", action="store_true")
    p.add_argument("--pictures", action="store_true",
                   help="draw docs/img/ from the conv_vae and conv_denoise records (after those runs)")
    p.add_argument("--table", action="store_true", help="print the markdown table of docs/results/*.json")
    args = p.parse_args(argv)
    if args.table:
        results = ROOT / "docs" / "results"
        print(table(results) + "\n\n" + same_epoch_table(results) + "\n\n" + spread_table(results))
        return 0
    if args.pictures:
        pictures(load_mnist(data_dir=args.data_dir), ROOT / "docs" / "results", ROOT / "docs" / "img")
        return 0
    if args.list or args.run is None:
        for name, run in RUNS.items():
            print(f"{name:16s} {run['published']}")
        return 0
    torch.set_num_threads(args.threads)
    if args.no_tf32:
        torch.backends.cudnn.allow_tf32 = False
    if args.autograd:
        from aekit.models.dense import DenseAutoencoder

        DenseAutoencoder.fused_training_step = lambda self, max_rows: None
    run = RUNS[args.run]
    ds = load_mnist(data_dir=args.data_dir)
    params = dict(run["params"], random_state=args.seed, verbose=1, device=args.device)
    if args.epochs:
        params["epochs"] = args.epochs
    X, Y, val = prepare(run, ds, args.seed)
    start = time.perf_counter()
    out = args.out or ROOT / "docs" / "results" / f"{args.run}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    if run["data"] != "flat":  # long runs: the one loop directly, with a record written after every epoch
        train_images(run, args, X, Y, val, out)
        return 0
    est = AutoEncoder(**params, validation_data=val).fit(X, Y)
    seconds = time.perf_counter() - start
    record = summarise(args, run, est, ds, seconds)
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record["final"], indent=1))
    return 0


def command(args, epochs) -> str:
    """The command line that reproduces a record: the run, its epochs (when given) and the options used."""
    parts = ["python bench/reproduce.py", args.run]
    parts += [f"--epochs {epochs}"] if epochs else []
    parts += [f"--seed {args.seed}"] if args.seed else []
    parts += [f"--start-from {args.start_from}"] if args.start_from else []
    parts += ["--no-tf32"] if args.no_tf32 else []
    parts += ["--autograd"] if args.autograd else []
    parts += [f"--out {args.out}"] if args.out else []
    return " ".join(parts)


class Recorder(Callback):
    """After every epoch: the JSON record so far and the weights, so a run stopped early still leaves both.

    The first N epochs of a run are the same whatever its total (same seed, nothing depends on the total),
    so ``--epochs N`` reproduces a record cut at N epochs.
    """

    def __init__(self, args, run, out: Path, model_config: dict):
        self.args, self.run, self.out, self.model_config = args, run, out, model_config
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs, trainer, model) -> None:
        from safetensors.torch import save_file

        h = {k: v for k, v in trainer.history_so_far.items()}
        n = epoch + 1
        cmd = command(self.args, n)
        record = {
            "run": self.args.run, "command": cmd, "published": self.run["published"],
            "protocol": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.run["params"].items()}
            | {"epochs_run": n, "shortened": n < self.run["params"]["epochs"], "seed": self.args.seed,
               "data": self.run["data"]},
            "final": {k: v[-1] for k, v in h.items() if k != "seconds"}
            | {"parameters": int(sum(p.numel() for p in model.parameters()))},
            "history": h, "seconds": round(time.perf_counter() - self.start, 1),
            "machine": machine(),
            "model": {"kind": model.kind, "config": self.model_config},
        }
        self.out.write_text(json.dumps(record, indent=1) + "\n")
        weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(weights, str(self.out.with_suffix(".safetensors")))


class _History(Callback):
    """Keeps the per-epoch logs where the Recorder can read them (the loop returns them only at the end)."""

    def on_train_begin(self, trainer, model) -> None:
        trainer.history_so_far = {}

    def on_epoch_end(self, epoch, logs, trainer, model) -> None:
        for k, v in logs.items():
            trainer.history_so_far.setdefault(k, []).append(v)


def train_images(run, args, X, Y, val, out: Path) -> None:
    """Image runs: data already in [0, 1] (what the estimator's scaling='auto' leaves alone), sigmoid + BCE."""
    from aekit.models import create_model, model_class

    p = dict(run["params"])
    kind, epochs, batch = p.pop("kind"), args.epochs or p.pop("epochs"), p.pop("batch_size")
    p.pop("epochs", None)
    if "warm_start" in run:
        if args.start_from is None:
            raise SystemExit(f"{args.run} goes on from a trained {run['warm_start']} model: run "
                             f"'bench/reproduce.py {run['warm_start']}' first, then pass --start-from "
                             f"docs/results/{run['warm_start']}.json")
        prior = json.loads(Path(args.start_from).read_text())
        config = prior["model"]["config"]
        model = create_model(kind, **config)
        from safetensors.torch import load_file

        model.load_state_dict(load_file(str(Path(args.start_from).with_suffix(".safetensors"))))
    else:
        torch.manual_seed(args.seed)
        model = create_model(kind, input_shape=X.shape[1:], output_activation="sigmoid", loss="bce", **p)
        config = model.config.to_dict()
    assert model_class(kind).sample_ranks
    cfg = TrainConfig(epochs=epochs, batch_size=batch, seed=args.seed, device=resolve_device(args.device))
    t = lambda a: None if a is None else torch.from_numpy(a)  # noqa: E731
    x_val, t_val = (val if isinstance(val, tuple) else (val, None)) if val is not None else (None, None)
    callbacks = [ProgressBar(), _History(), Recorder(args, run, out, config)]
    Trainer(cfg, callbacks=callbacks).fit(model, t(X), t(Y), t(x_val), t(t_val))


def _measured(r: dict) -> str:
    f = r["final"]
    if r["run"] == "conv_vae":
        return (f"loss {f['loss']:.2f} = reconstruction {f['reconstruction']:.2f} + KL {f['kl']:.2f} "
                "(summed per image)")
    text = f"train {f['loss']:.4f}, val {f['val_loss']:.4f}"
    if "l1_activity" in f:
        text += (f" (train = reconstruction {f['reconstruction']:.4f} + L1 {f['l1_activity']:.4f}; "
                 f"val reconstruction {f['val_reconstruction']:.4f}); mean test code activation "
                 f"{f['test_code_activation']:.2f}")
    elif "test_code_activation" in f:
        text += f"; mean test code activation {f['test_code_activation']:.2f}"
    return text


def table(results: Path) -> str:
    """Published vs measured, one row per record in ``results``, in RUNS order."""
    rows = ["| run | published | epochs run / protocol | aekit measured | weights | command |",
            "|---|---|---|---|---|---|"]
    for name in RUNS:
        path = results / f"{name}.json"
        if not path.exists():
            continue
        r = json.loads(path.read_text())
        ran = r["protocol"].get("epochs_run", r["protocol"].get("epochs"))
        full = RUNS[name]["params"]["epochs"]
        epochs = f"{ran} / {full}" + (" (shortened)" if ran < full else "")
        rows.append(f"| {name} | {r['published']} | {epochs} | {_measured(r)} | {r['final']['parameters']:,} | "
                    f"`{r['command']}` |")
    return "\n".join(rows)


def machine() -> str:
    """Where a record was measured: the GPU's name when a run used one, else the CPU threads."""
    where = (torch.cuda.get_device_name() if torch.cuda.is_initialized()
             else f"{torch.get_num_threads()} CPU thread(s)")
    return f"{platform.machine()}, torch {torch.__version__}, {where}"


def load_record(path: Path):
    """(record, model in eval mode) from a JSON record and the weights beside it."""
    from safetensors.torch import load_file

    from aekit.models import create_model

    record = json.loads(path.read_text())
    model = create_model(record["model"]["kind"], **record["model"]["config"])
    model.load_state_dict(load_file(str(path.with_suffix(".safetensors"))))
    return record, model.eval()


@torch.inference_mode()
def pictures(ds, results: Path, img: Path) -> None:
    """VAE samples grid, 2-D latent manifold and codes, conv denoising grid: from the saved runs."""
    import matplotlib

    matplotlib.use("Agg")
    from aekit import plots

    img.mkdir(parents=True, exist_ok=True)
    if (results / "conv_vae.json").exists():
        record, vae = load_record(results / "conv_vae.json")
        n = record["protocol"]["epochs_run"]
        z = torch.randn(100, 2, generator=torch.Generator().manual_seed(0))
        samples = vae.decode(z).reshape(10, 10, 28, 28).numpy()
        ax = plots.plot_image_rows(list(samples), (28, 28), [""] * 10,
                                   title=f"conv VAE: 100 samples, z ~ N(0, I) ({n} epochs)")
        plots.save_figure(ax, img / "vae_samples.png")
        grid = np.linspace(-2.0, 2.0, 15, dtype=np.float32)
        zz = torch.tensor([[x, y] for y in grid[::-1] for x in grid])  # rows: z2 from high to low
        manifold = vae.decode(zz).reshape(15, 15, 28, 28).numpy()
        ax = plots.plot_image_rows(list(manifold), (28, 28), [f"{v:.1f}" for v in grid[::-1]],
                                   title=f"conv VAE latent manifold ({n} epochs): columns z1 = -2..2, rows z2 (labels)")
        plots.save_figure(ax, img / "vae_manifold.png")
        codes = vae.encode(torch.from_numpy(ds.images(ds.X_test)[:, None])).numpy()
        ax = plots.plot_codes(codes, ds.y_test, title=f"conv VAE: mean codes of the 10,000 test digits ({n} epochs)")
        plots.save_figure(ax, img / "vae_codes.png")
    if (results / "conv_denoise.json").exists():
        record, model = load_record(results / "conv_denoise.json")
        run = dict(RUNS["conv_denoise"])
        noisy, clean = prepare(run, ds, record["protocol"]["seed"])[2]
        denoised = torch.sigmoid(model(torch.from_numpy(noisy[:10]))["logits"]).numpy()
        ax = plots.plot_image_rows([noisy[:10], denoised, clean[:10]], (28, 28), ["noisy", "denoised", "clean"],
                                   title=f"conv denoising, noise factor 0.4 ({record['protocol']['epochs_run']} "
                                         "epochs on noisy inputs)")
        plots.save_figure(ax, img / "conv_denoising.png")


def summarise(args, run, est, ds, seconds) -> dict:
    h = est.history_
    final = {k: v[-1] for k, v in h.items() if isinstance(v, list) and k != "seconds"}
    if run["data"] == "flat":
        final["test_code_activation"] = float(est.transform(ds.X_test).mean())
    final["parameters"] = int(sum(p.numel() for p in est.model_.parameters()))
    cmd = command(args, args.epochs)
    return {
        "run": args.run, "command": cmd, "published": run["published"],
        "protocol": {k: (list(v) if isinstance(v, tuple) else v) for k, v in run["params"].items()}
        | {"epochs": est.epochs, "shortened": bool(args.epochs and args.epochs < run["params"]["epochs"]),
           "seed": args.seed, "data": run["data"]},
        "final": final, "history": {k: v for k, v in h.items() if isinstance(v, list)},
        "seconds": round(seconds, 1),
        "machine": machine(),
    }


if __name__ == "__main__":
    sys.exit(main())
