"""``aekit train DATA --out DIR``: fit an AutoEncoder and leave the model, its history and pictures."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .._atomic import publish_folder, staged_folder
from .._params import validate_params
from ..exceptions import DataError, ModelFileError
from ..training import distributed
from ._common import add_data_dir_option, add_json_option, int_or_auto, int_tuple, print_summary, read_data, write_csv
from . import report
from ._stream import streams


#: (flags, estimator parameter, type, help): one flag per estimator parameter, nothing else
FLAGS = [
    (("--kind",), "kind", str, "model kind"),
    (("--latent", "--latent-dim"), "latent_dim", int, "size of the code"),
    (("--hidden",), "hidden", int_tuple, "encoder widths, mirrored by the decoder, e.g. 128,64; 'none' for no hidden layer"),
    (("--decoder-hidden",), "decoder_hidden", int_tuple, "decoder widths when they should not mirror --hidden"),
    (("--activation",), "activation", str, "hidden-layer activation"),
    (("--latent-activation",), "latent_activation", str, "activation of the code"),
    (("--output-activation",), "output_activation", str, "decoder output; auto: sigmoid when the scaled data lie in [0, 1]"),
    (("--loss",), "loss", str, "reconstruction loss; auto: bce for a sigmoid output, else mse"),
    (("--batch-norm",), "batch_norm", None, "batch normalisation after each hidden layer"),
    (("--dropout",), "dropout", float, "dropout rate after each hidden layer"),
    (("--filters",), "filters", int_tuple, "channels of convolutional kinds, e.g. 16,8,8"),
    (("--kernel-size",), "kernel_size", int, "odd kernel size of convolutional kinds"),
    (("--downsample",), "downsample", str, "how a conv encoder halves the image"),
    (("--upsample",), "upsample", str, "how a conv decoder doubles it"),
    (("--bottleneck",), "bottleneck", str, "conv code: dense (latent_dim units) or conv (the last feature map)"),
    (("--beta",), "beta", float, "weight of the KL term (variational kinds)"),
    (("--beta-warmup",), "beta_warmup", int, "epochs over which the KL weight ramps up from 0"),
    (("--activity-l1",), "activity_l1", float, "L1 penalty on the code (sparse autoencoder), e.g. 1e-4"),
    (("--sparsity-target",), "sparsity_target", float, "KL sparsity: target mean code activation rho"),
    (("--sparsity-weight",), "sparsity_weight", float, "KL sparsity: weight of the penalty (0 = off)"),
    (("--noise",), "noise", str, "corruption per batch (denoising)"),
    (("--noise-factor",), "noise_factor", float, "strength of the corruption"),
    (("--epochs",), "epochs", int_or_auto, "training epochs, or auto: 50, or more on small data (enough for "
                                          "3,000 steps)"),
    (("--batch-size",), "batch_size", int, "samples per step"),
    (("--learning-rate", "--lr"), "learning_rate", float, "optimizer step size"),
    (("--optimizer",), "optimizer", str, "optimizer"),
    (("--weight-decay",), "weight_decay", float, "L2 weight decay"),
    (("--validation-split",), "validation_split", float, "fraction held out for val_loss (0: the test split of a built-in dataset, else none)"),
    (("--early-stopping",), "early_stopping", int, "patience in epochs; the best weights are restored"),
    (("--scaling",), "scaling", str, "per-feature scaling; auto: none for data in [0, 1], else minmax"),
    (("--seed", "--random-state"), "random_state", int, "random seed for reproducible runs"),
    (("--device",), "device", str, "auto (a GPU when torch sees one), cpu, cuda or cuda:N"),
]


def choices() -> dict:
    """The values each flag takes, read from the registries (``--help`` lists them; 'none' is None)."""
    from ..data.corruption import NOISES
    from ..data.scaling import SCALINGS
    from ..models import list_models
    from ..models.base import ACTIVATIONS, LOSSES, OUTPUT_ACTIVATIONS
    from ..models.conv import BOTTLENECKS, DOWNSAMPLES, UPSAMPLES
    from ..training.config import OPTIMIZERS

    activations = sorted(ACTIVATIONS)
    return {"kind": list_models(), "activation": activations, "latent_activation": activations,
            "output_activation": ["auto", *OUTPUT_ACTIVATIONS], "loss": ["auto", *LOSSES],
            "downsample": list(DOWNSAMPLES), "upsample": list(UPSAMPLES), "bottleneck": list(BOTTLENECKS),
            "noise": ["none", *NOISES], "optimizer": list(OPTIMIZERS),
            "scaling": [str(k).lower() for k in SCALINGS]}


#: what a parameter left at None means
NONE_MEANS = {"decoder_hidden": "mirrors --hidden", "filters": "the kind's own", "kernel_size": "the kind's own",
              "downsample": "the kind's own", "upsample": "the kind's own", "bottleneck": "the kind's own",
              "random_state": "a fresh seed each run", "noise": "none", "scaling": "none"}


def _default_text(dest: str, value) -> str:
    if value is None:
        return NONE_MEANS.get(dest, "none")
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) or "none"
    return str(value)


def add_estimator_flags(group, defaults: dict, skip=()) -> None:
    """One flag per estimator parameter, with its choices and the default ``defaults`` gives (a value, or
    the text of a rule); unset flags stay None, so the estimator's own default applies."""
    values = choices()
    for flags, dest, kind, help_text in FLAGS:
        if dest in skip:
            continue
        default = f" (default: {_default_text(dest, defaults[dest])})" if dest in defaults else ""
        if kind is None:
            group.add_argument(*flags, dest=dest, action="store_true", default=None, help=help_text + default)
        else:
            group.add_argument(*flags, dest=dest, type=kind, default=None, choices=values.get(dest),
                               help=help_text + default)
MODEL_FILE = "model.safetensors"
#: every file a run folder may hold: with --force, those the new run does not write are removed
RUN_FILES = (MODEL_FILE, "history.csv", "loss.png", "reconstructions.png", "codes.png", "run.json", "report.html")


def register(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train an autoencoder and write the model, its history and pictures",
        description="Train an autoencoder on DATA and write model.safetensors, history.csv and PNG pictures "
                    "into --out. DATA is a built-in dataset (digits, mnist, fashion-mnist, sequences) or a "
                    ".csv/.npy/.npz/.parquet file. Every option maps one-to-one onto an aekit.AutoEncoder "
                    "parameter; unset options keep the estimator's defaults.",
    )
    p.add_argument("data", metavar="DATA", nargs="?", default=None,
                   help="built-in dataset name, data file, or a folder of Parquet files (streamed)")
    p.add_argument("--out", "-o", type=Path, default=None, help="folder for the model and its pictures")
    p.add_argument("--checkpoint-every", default="0", metavar="N",
                   help="save the run's state into OUT/checkpoints every N epochs for --resume; 'auto': every epoch, "
                        "at most once a minute; default 0: off (a failed run then leaves nothing behind)")
    p.add_argument("--checkpoint-steps", type=int, default=0, metavar="M",
                   help="also save every M optimizer steps within an epoch (default 0: never mid-epoch)")
    p.add_argument("--resume", type=Path, default=None, metavar="RUN",
                   help="continue the run in folder RUN from its last checkpoint, with RUN's own settings and data")
    p.add_argument("--nproc", type=int, default=None, metavar="N",
                   help="train in N processes on this machine (torch.distributed: gloo on CPU, nccl with one GPU "
                        "per process); --batch-size stays the global batch. Across machines: torchrun --nnodes "
                        "... -m aekit train ... (docs/scale.md)")
    p.add_argument("--force", action="store_true", help="replace a model already in --out")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no summary")
    add_json_option(p, "the summary (model, data, epochs, final losses, files written)")
    p.add_argument("--no-report", action="store_true", help="do not write report.html (aekit report DIR writes it later)")
    p.add_argument("--tensorboard", type=Path, default=None, metavar="DIR",
                   help="write TensorBoard event files (per-epoch losses, parameters) into DIR (needs aekit[tracking])")
    p.add_argument("--mlflow", nargs="?", const="", default=None, metavar="URI",
                   help="log an MLflow run (parameters, per-epoch losses; the model and report as artifacts) to "
                        "URI, or to MLflow's default store without one (needs aekit[tracking])")
    add_data_dir_option(p)
    group = p.add_argument_group("model and training (aekit.AutoEncoder parameters)")
    from .. import AutoEncoder

    add_estimator_flags(group, AutoEncoder().get_params())
    p.set_defaults(func=run)


def estimator_params(args) -> dict:
    """The estimator parameters given on the command line (unset flags are left out)."""
    params = {dest: getattr(args, dest) for _, dest, _, _ in FLAGS if getattr(args, dest) is not None}
    if distributed.environment() is not None:  # one of the processes torchrun (or --nproc) started
        params["distributed"] = True
    # 'none' on the command line is Python's None
    return {k: (None if isinstance(v, str) and v.lower() == "none" else v) for k, v in params.items()}


def run(args) -> None:
    if args.nproc is not None and distributed.environment() is None:
        return distributed.launch(args.nproc, _without_nproc(args.argv))
    try:
        return _run(args)
    finally:
        distributed.teardown()


def _without_nproc(argv) -> list:
    """The command line minus ``--nproc N``: what each of the N processes runs."""
    out, skip = [], False
    for arg in argv:
        if skip or arg == "--nproc" or arg.startswith("--nproc="):
            skip = arg == "--nproc"
            continue
        out.append(arg)
    return out


def _run(args) -> None:
    if args.resume is not None:
        args = resume_args(args)
    elif args.data is None or args.out is None:
        raise ValueError("aekit train needs DATA and --out (or --resume RUN to continue a run)")
    checkpoint_every = _checkpoint_every(args.checkpoint_every)
    if streams(args.data):
        return run_stream(args, checkpoint_every)
    return run_memory(args, checkpoint_every)


def run_memory(args, checkpoint_every):
    out: Path = args.out
    model_path = out / MODEL_FILE
    if out.exists() and not out.is_dir():
        raise DataError(f"--out {str(out)!r} is a file; give a folder")
    if model_path.exists() and not args.force:
        raise ModelFileError(f"{str(model_path)!r} already exists; pass --force to replace it, or choose another --out")
    est, dataset, X, trackers = _estimator_and_data(args)
    if not distributed.is_main_process():  # another rank of a run of many processes: it trains, rank 0 writes
        return est.fit(X, **checkpoint_kwargs(args, checkpoint_every))
    # The run is written into a hidden folder inside --out, then published in one locked step: a failed run
    # leaves nothing, two runs into one folder never mix (the second fails, or with --force replaces all).
    with staged_folder(out) as stage:
        est.fit(X, **checkpoint_kwargs(args, checkpoint_every))
        if dataset.feature_names is not None and X is dataset.X:  # as fit keeps a DataFrame's columns; --dask uses them
            est.feature_names_in_ = np.asarray(dataset.feature_names, dtype=object)
        est.save(stage / MODEL_FILE)
        written = [write_history(est.history_, stage / "history.csv")]
        written += write_pictures(est, dataset, stage)
        with publish_folder(stage, out, MODEL_FILE, overwrite=args.force, replaces=RUN_FILES):
            written = [model_path] + [out / p.name for p in written]
            written += report.after_train(est, dataset, out, args.data, args.data_dir, report=not args.no_report,
                                          quiet=args.quiet)
    _log_artifacts(trackers, written)
    _summary(args, est, tuple(X.shape), written)
    return est


def _log_artifacts(trackers, written) -> None:
    for tracker in trackers:
        if hasattr(tracker, "log_artifact"):
            for path in written:
                tracker.log_artifact(path)


def _summary(args, est, shape, written) -> None:
    """What the run wrote, as lines (or one JSON object with --json); nothing with --quiet."""
    h = est.history_
    summary = {"kind": est.model_.kind, "data": str(args.data), "shape": list(shape) if shape else None,
               "epochs": len(h["loss"]), "loss": h["loss"][-1], "val_loss": h["val_loss"][-1] if "val_loss" in h else None,
               "out": str(args.out), "files": [str(p) for p in written]}
    losses = f"loss {h['loss'][-1]:.4f}" + (f", val_loss {h['val_loss'][-1]:.4f}" if "val_loss" in h else "")
    where = tuple(shape) if shape else "(streamed)"
    print_summary(args, summary, [f"trained {est.model_.kind} autoencoder on {args.data} {where} for "
                                  f"{len(h['loss'])} epochs: {losses}", f"wrote {len(written)} files to {args.out}/:"]
                  + [f"  {path}" for path in written])


ARGS_FILE = "args.json"


def _checkpoint_every(value):
    if str(value).lower() == "auto":
        return "auto"
    try:
        every = int(value)
    except ValueError:
        every = -1
    if every < 0:
        raise ValueError(f"--checkpoint-every takes a number of epochs (0: off) or 'auto', got {value!r}")
    return every


def checkpoint_kwargs(args, checkpoint_every) -> dict:
    """fit's checkpoint arguments; the command's own arguments saved beside them for --resume."""
    if checkpoint_every == 0:
        return {}
    import json

    from .._atomic import atomic_path

    folder = args.out / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    saved = {"data": str(args.data) if not Path(str(args.data)).exists() else str(Path(args.data).resolve()),
             "data_dir": None if args.data_dir is None else str(args.data_dir), "params": estimator_params(args),
             "checkpoint_every": args.checkpoint_every, "checkpoint_steps": args.checkpoint_steps,
             "no_report": args.no_report}
    if distributed.is_main_process():
        with atomic_path(folder / ARGS_FILE) as tmp:
            Path(tmp).write_text(json.dumps(saved, indent=2) + "\n", encoding="utf-8")
    return {"checkpoint_dir": folder, "checkpoint_every": checkpoint_every,
            "checkpoint_steps": int(args.checkpoint_steps)}


def resume_args(args):
    """The arguments of the run in ``--resume RUN``, from RUN/checkpoints/args.json."""
    import json

    run_dir = args.resume
    path = run_dir / "checkpoints" / ARGS_FILE
    if not path.is_file():
        raise ValueError(f"{str(run_dir)!r} holds no resumable run (no {str(path)!r}); it was trained with "
                         "--checkpoint-every 0, or is not an aekit train folder")
    saved = json.loads(path.read_text(encoding="utf-8"))
    given = [flags[0] for flags, dest, _, _ in FLAGS if getattr(args, dest) is not None]
    if given or args.data is not None:
        raise ValueError(f"--resume continues RUN with its own settings and data; drop "
                         f"{', '.join(given) or 'DATA'} (or train a new run with --out)")
    for _, dest, _, _ in FLAGS:
        setattr(args, dest, saved["params"].get(dest))
    args.data, args.data_dir = saved["data"], saved["data_dir"]
    args.data_dir = None if saved["data_dir"] is None else Path(saved["data_dir"])
    args.out, args.force, args.no_report = run_dir, True, saved["no_report"] or args.no_report
    args.checkpoint_every, args.checkpoint_steps = saved["checkpoint_every"], saved["checkpoint_steps"]
    return args


def run_stream(args, checkpoint_every):
    """Train on a stream (a Parquet folder, a large file): the model, its history and loss curve."""
    from .. import AutoEncoder

    out: Path = args.out
    model_path = out / "model.safetensors"
    if model_path.exists() and not args.force:
        raise ModelFileError(f"{str(model_path)!r} already exists; pass --force to replace it, or choose another --out")
    params = estimator_params(args)
    params.setdefault("verbose", 0 if args.quiet else 1)
    trackers = _trackers(args, params)
    est = AutoEncoder(**params, callbacks=trackers or None)
    out.mkdir(parents=True, exist_ok=True)
    est.fit(str(args.data), **checkpoint_kwargs(args, checkpoint_every))
    if not distributed.is_main_process():
        return est
    est.save(model_path, overwrite=args.force)
    written = [model_path, write_history(est.history_, out / "history.csv")]
    import matplotlib

    matplotlib.use("Agg")
    from .. import plots

    plots.save_figure(plots.plot_history(est.history_), out / "loss.png")
    written.append(out / "loss.png")
    _log_artifacts(trackers, written)
    _summary(args, est, None, written)
    return est


def _estimator_and_data(args) -> tuple:
    """``(estimator, dataset, X, trackers)``: the options checked before the data are read, X shaped for the kind."""
    from .. import AutoEncoder

    params = estimator_params(args)
    validate_params(AutoEncoder(**params))  # bad options fail before the data are read
    dataset = read_data(args)
    if dataset.X_test is not None and "validation_split" not in params:
        params["validation_data"] = dataset.X_test
    params.setdefault("verbose", 0 if args.quiet else 1)
    trackers = _trackers(args, params)
    est = AutoEncoder(**params, callbacks=trackers or None)
    X = dataset.X
    if dataset.image_shape is not None and len(_sample_ranks(est)) and 1 not in _sample_ranks(est):
        X = dataset.images()
        if "validation_data" in params:
            est.set_params(validation_data=dataset.images(dataset.X_test))
    return est, dataset, X, trackers


def _trackers(args, params: dict) -> list:
    """TensorBoard / MLflow callbacks asked for on the command line, given the estimator parameters set."""
    from ..training.tracking import MLflowCallback, TensorBoardCallback

    logged = {"data": args.data, **{k: v for k, v in params.items() if k != "validation_data"}}
    trackers = []
    if args.tensorboard is not None:
        trackers.append(TensorBoardCallback(args.tensorboard, params=logged))
    if args.mlflow is not None:
        trackers.append(MLflowCallback(args.mlflow or None, run_name=f"{args.data} -> {args.out}", params=logged))
    return trackers


def _sample_ranks(est) -> tuple:
    from ..models import model_class

    return model_class(est.kind).sample_ranks


def write_history(history: dict, path: Path) -> Path:
    from .._atomic import atomic_path

    keys = [k for k, v in history.items() if isinstance(v, list)]
    rows = [[i + 1] + [history[k][i] for k in keys] for i in range(len(history["loss"]))]
    with atomic_path(path) as tmp:
        write_csv(tmp, ["epoch"] + keys, rows)
    return path


def write_pictures(est, dataset, out: Path) -> list:
    """Loss curves; originals over reconstructions for images; a 2-D code scatter when labels exist."""
    import matplotlib

    matplotlib.use("Agg")
    from .. import plots

    written = []
    ax = plots.plot_history(est.history_)
    plots.save_figure(ax, out / "loss.png")
    written.append(out / "loss.png")
    X_show = dataset.X_test if dataset.X_test is not None else dataset.X
    y_show = dataset.y_test if dataset.X_test is not None else dataset.y
    X_model = X_show if len(est.input_shape_) == 1 else X_show.reshape((len(X_show),) + tuple(est.input_shape_))
    if dataset.image_shape is not None:
        recon = est.predict(X_model[:10]).reshape(-1, *dataset.image_shape)
        ax = plots.plot_reconstructions(X_show[:10], recon, dataset.image_shape)
        plots.save_figure(ax, out / "reconstructions.png")
        written.append(out / "reconstructions.png")
    if y_show is not None:
        codes = est.transform(X_model[:20000])
        title = "Codes" + (" (first two of %d dimensions)" % codes.shape[1] if codes.shape[1] > 2 else "")
        ax = plots.plot_codes(codes, y_show[:20000], title=title, label_names=dataset.target_names)
        plots.save_figure(ax, out / "codes.png")
        written.append(out / "codes.png")
    return written

