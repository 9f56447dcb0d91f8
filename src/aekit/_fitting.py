"""What ``AutoEncoder.fit`` / ``partial_fit`` assemble from the estimator's parameters: the trainer, the
checkpoint folder with the run's identity, and the streaming fit (a path or source instead of an array)."""
from __future__ import annotations

import contextlib
import json
from typing import Optional

import numpy as np
import torch

from .data.corruption import make_corruption
from .data.prepare import resolve_output
from .data.scaling import RunningStats, Scaler, resolve_scaling
from .data.sources import ArraySource, Source, open_source
from .data.streaming import StreamBatches, StreamValidation
from .data.validation import check_array, check_random_state_int, feature_names_of
from .exceptions import DataError
from .models.penalties import make_penalties
from .training import ProgressBar, TrainConfig, Trainer, distributed
from .training.config import AUTO_STEPS, resolve_epochs
from .training.callbacks import KLWarmup
from .training.checkpoint import Checkpointer
from .training.device import resolve_device
from .training.optim import make_optimizer
from .training.state import TrainState

#: parameters that do not change what a fit computes (left out of a run's identity; checkpoints record the
#: number of processes themselves)
_NOT_IDENTITY = ("verbose", "distributed")


def processes(est) -> distributed.Context:
    """Where this fit runs: alone on ``est.device``, or (``distributed=True`` under torchrun) as one rank of
    the process group, on its own device (cuda:LOCAL_RANK with nccl, cpu with gloo)."""
    if not isinstance(est.distributed, bool):
        raise TypeError(f"distributed must be True or False, got {est.distributed!r}")
    device = resolve_device(est.device)
    if not est.distributed:
        return distributed.Context(device=device)
    return distributed.setup(device="cuda" if device.startswith("cuda") else device)


def make_trainer(est, output_activation: str, ctx: distributed.Context, seed: int, epochs: Optional[int] = None,
                 n_samples: Optional[int] = None) -> Trainer:
    """The one loop set up from the estimator's parameters, for this process (``ctx``). ``epochs='auto'``
    needs ``n_samples`` (the training rows); a stream of unknown length counts as large (AUTO_EPOCHS epochs)."""
    if epochs is None:
        rows = n_samples if n_samples is not None else AUTO_STEPS * int(est.batch_size)
        epochs = resolve_epochs(est.epochs, rows, est.batch_size)
    cfg = TrainConfig(epochs=epochs, batch_size=est.batch_size,
                      learning_rate=est.learning_rate, optimizer=est.optimizer, weight_decay=est.weight_decay,
                      early_stopping=est.early_stopping, device=ctx.device, seed=seed, rank=ctx.rank,
                      world_size=ctx.world_size, fused_step=not callable(est.loss))
    # the progress bar and the user's callbacks (trackers write files) run on rank 0 alone; the loop agrees
    # on a stop that one of them asks for
    user = est._user_callbacks()
    callbacks = (([ProgressBar()] if est.verbose else []) + user) if ctx.is_main else []
    if est.beta_warmup:
        callbacks.append(KLWarmup(est.beta_warmup))
    clip = (0.0, 1.0) if output_activation == "sigmoid" else None
    return Trainer(cfg, callbacks=callbacks, corruption=make_corruption(est.noise, est.noise_factor, clip),
                   penalties=make_penalties(est.activity_l1, est.sparsity_weight, est.sparsity_target))


def _loss_name(est) -> str:
    """A callable loss replaces the reconstruction term; the output layer is then chosen as for 'auto'."""
    return "auto" if callable(est.loss) else est.loss


def run_identity(est) -> dict:
    """The estimator's parameters as JSON, validation data by their fingerprint; a random_state of None is
    left out (the seed drawn for the run is stored in its checkpoints and reused on resume)."""
    params = {k: v for k, v in est.get_params(deep=False).items() if k not in _NOT_IDENTITY}
    if params.get("random_state") is None:
        params.pop("random_state", None)
    vd = params.get("validation_data")
    if vd is not None:
        parts = vd if isinstance(vd, tuple) else (vd,)
        params["validation_data"] = [_fingerprint(p) for p in parts]
    return json.loads(json.dumps(params, default=lambda v: v.item() if hasattr(v, "item") else type(v).__name__))


def _fingerprint(data) -> Optional[dict]:
    if isinstance(data, Source):
        return data.fingerprint()
    if isinstance(data, (str, bytes)) or not hasattr(data, "__len__"):
        return {"path": str(data)}
    return ArraySource(np.asarray(data)).fingerprint()


def make_checkpointer(est, folder, fingerprint, every: int, steps: int, keep: int, world_size: int = 1,
                      min_seconds: float = 0.0) -> Optional[Checkpointer]:
    if folder is None:
        return None
    if every == "auto":  # every epoch, at most once a minute: only runs longer than a minute pay for it
        every, min_seconds = 1, 60.0
    return Checkpointer(folder, every_epochs=every, every_steps=steps, keep=keep, min_seconds=min_seconds,
                        identity=run_identity(est), fingerprint=fingerprint, world_size=world_size)


def restored_extra(checkpoints: Optional[Checkpointer]) -> dict:
    """What the estimator stored with the run's last checkpoint (seed, scaler), or {} to start afresh."""
    if checkpoints is None or checkpoints.latest() is None:
        return {}
    return checkpoints.latest_state().get("extra", {})


def scaler_extra(seed: int, scaler: Scaler) -> dict:
    return {"seed": int(seed), "scaling": scaler.kind,
            "scaler": {k: torch.from_numpy(np.asarray(v)) for k, v in scaler.state().items()}}


def scaler_from_extra(extra: dict) -> Scaler:
    return Scaler.from_state(extra["scaling"], {k: v.numpy() for k, v in extra["scaler"].items()})


def train(trainer, model, checkpoints, extra: dict, *data) -> dict:
    """Run the trainer; with checkpoints, what the estimator needs to resume travels in the state."""
    if checkpoints is None:
        return trainer.fit(model, *data)
    cfg = trainer.config
    state = TrainState(model.to(cfg.device), make_optimizer(model.parameters(), cfg),
                       torch.Generator(device=cfg.device).manual_seed(int(cfg.seed)), extra=extra)
    return trainer.fit(model, *data, state=state, checkpoints=checkpoints)


@contextlib.contextmanager
def seeded(device: str, seed: int):
    """torch's global generators seeded for the body (weights' initialisation, dropout), restored after."""
    devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def fit_stream(est, X, cls, ctx, checkpoint_dir, every, steps, keep, shuffle_buffer):
    """``AutoEncoder.fit`` on a stream: statistics in one pass, then epochs over shuffled, buffered units
    (each rank its own share of them, under many processes)."""
    source, device = open_source(X), ctx.device
    checkpoints = make_checkpointer(est, checkpoint_dir, source.fingerprint(), every, steps, keep, ctx.world_size)
    extra = restored_extra(checkpoints)
    seed = extra["seed"] if extra else check_random_state_int(est.random_state)
    source, train_src, val, scaler, output_activation, loss, scaled_range = stream_setup(est, source, seed, extra, cls)
    # validates batch_size against the processes before the stream's batches are set up
    trainer = make_trainer(est, output_activation, ctx, seed, n_samples=train_src.n_rows)
    batches, validation = stream_batches(est, train_src, val, scaler, seed, ctx, shuffle_buffer)
    extra = {**scaler_extra(seed, scaler), "scaled_range": list(scaled_range)}
    with seeded(device, seed):
        model = est._build_model(cls, source.sample_shape, output_activation, loss)
        history = train(trainer, model, checkpoints, extra, batches, None, validation)
    names = None if source.feature_names is None else np.asarray(source.feature_names, dtype=object)
    est._set_fitted(model, scaler, history, tuple(source.sample_shape), names, device)
    return est


def partial_fit(est, X):
    """``AutoEncoder.partial_fit``: the first call builds scaler and model, each call trains one epoch."""
    state = getattr(est, "_partial_state", None)
    if state is None or not hasattr(est, "model_"):
        cls = est._model_class()
        X_arr = check_array(X, sample_ranks=cls.sample_ranks, estimator=type(est).__name__)
        device = resolve_device(est.device)
        if est.distributed:
            raise ValueError("partial_fit trains in one process; distributed=True is for fit under torchrun")
        seed = check_random_state_int(est.random_state)
        scaler = Scaler.fit(resolve_scaling(est.scaling, X_arr), X_arr)
        output_activation, loss = resolve_output(est.output_activation, _loss_name(est), scaler.transform(X_arr))
        with seeded(device, seed):
            model = est._build_model(cls, X_arr.shape[1:], output_activation, loss)
        est._set_fitted(model, scaler, {}, tuple(X_arr.shape[1:]), feature_names_of(X), device)
        est._partial_seed, est._partial_output = seed, output_activation
    x = est._prepare(X)
    trainer = make_trainer(est, est._partial_output, distributed.Context(device=est.device_), est._partial_seed,
                           epochs=(state.epoch if state is not None else 0) + 1)
    with seeded(est.device_, est._partial_seed):
        if state is not None:
            state.finished = False
            torch.set_rng_state(est._partial_rng)  # dropout continues its sequence
        est.history_ = trainer.fit(est.model_, x, state=state)
        est._partial_rng = torch.get_rng_state()
    est._partial_state = trainer.state
    return est


# -- streams ------------------------------------------------------------------------------------------
def stream_statistics(source: Source) -> RunningStats:
    """One pass over the source: per-feature min, max, mean and variance."""
    stats = RunningStats()
    for chunk in source.chunks():
        if not np.isfinite(chunk).all():
            raise DataError("the data contain NaN or infinite values; remove or impute them first")
        stats.update(chunk.reshape(len(chunk), -1))
    if stats.n == 0:
        raise DataError("the data hold no rows; expected at least one sample")
    return stats


def stream_setup(est, X, seed: int, extra: dict, cls):
    """``(source, train, validation, scaler, output_activation, loss)`` for a fit on a stream."""
    source = open_source(X)
    if 1 not in cls.sample_ranks:
        raise DataError(f"kind={est.kind!r} takes images; streams give flat rows: use a dense kind")
    if extra:
        scaler = scaler_from_extra(extra)
        lo, hi = extra["scaled_range"]
    else:
        stats = stream_statistics(source)
        extremes = np.stack([stats.min, stats.max]).astype(np.float32)  # (2, n_features)
        scaler = Scaler.from_stats(resolve_scaling(est.scaling, stats), stats)
        scaled = scaler.transform(extremes)
        lo, hi = float(scaled.min()), float(scaled.max())
    output_activation, loss = resolve_output(est.output_activation, _loss_name(est), np.array([lo, hi], np.float32))
    if est.validation_data is not None:
        val = est.validation_data
        train, val_source = source, open_source(val) if isinstance(val, (Source, str)) else ArraySource(
            np.asarray(val, dtype=np.float32))
    else:
        train, val_source = source.split(float(est.validation_split), seed)
    if val_source is not None and tuple(val_source.sample_shape) != tuple(source.sample_shape):
        raise DataError(f"validation_data has samples of shape {tuple(val_source.sample_shape)}, but the "
                        f"training data {tuple(source.sample_shape)}; give validation data with the same columns")
    return source, train, val_source, scaler, output_activation, loss, (lo, hi)


def stream_batches(est, train: Source, val: Optional[Source], scaler: Scaler, seed: int, ctx: distributed.Context,
                   shuffle_buffer: Optional[int]):
    units = len(train.units())
    if units < ctx.world_size:
        raise DataError(f"the training data hold {units} unit(s) (row groups or blocks) for {ctx.world_size} "
                        "processes, and each process needs at least one; write more row groups (or files), "
                        "or start fewer processes")
    batches = StreamBatches(train, int(est.batch_size) // ctx.world_size, seed=seed, transform=scaler.transform_inplace,
                            device=ctx.device, buffer_rows=shuffle_buffer, rank=ctx.rank, world_size=ctx.world_size)
    validation = None if val is None else StreamValidation(val, 1024, transform=scaler.transform_inplace, device=ctx.device)
    return batches, validation
