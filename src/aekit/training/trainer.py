"""The one training loop. Nothing in this file knows which autoencoder it trains.

It calls ``model(x)``, reads ``model.loss(out, target)`` plus any penalties, and steps. Denoising is a
``corruption`` applied to each batch; sparsity is a penalty; neither needs a loop of its own.
Data stays in memory as tensors; batches are slices of a permutation (no per-sample DataLoader).

With many processes (``config.world_size > 1``, training/distributed.py) the loop is the same; four edges
change: each rank steps on its shard with ``batch_size / world_size`` rows, the gradients are averaged
before each optimizer step, the epoch ends when the shortest shard does, and the epoch's losses (hence the
NaN guard and early stopping) are the all-ranks means, the same on every rank.
"""
from __future__ import annotations

import time
from typing import Callable, Optional, Sequence

import torch
from torch import nn

from ..exceptions import DataError, TrainingError
from . import distributed
from .callbacks import Callback
from .config import TrainConfig
from .optim import make_optimizer
from .state import TrainState
from .threads import cpu_threads

#: ``corruption(batch, generator) -> corrupted batch``
Corruption = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def batch_starts(n: int, batch_size: int) -> list:
    """Batch boundaries ``[0, bs, 2 bs, ..., n]``: never drops the only batch, and folds a last batch of
    one sample into the one before (batch-norm cannot train on a single sample)."""
    starts = list(range(0, n, max(1, batch_size))) + [n]
    if batch_size > 1 and len(starts) > 2 and n - starts[-2] == 1:
        del starts[-2]
    return starts


class Trainer:
    """Fits any registered autoencoder.

    Parameters
    ----------
    config : TrainConfig
    callbacks : sequence of Callback
    corruption : callable, optional
        Applied to every training batch (and, with a fixed seed, to validation batches): denoising.
    penalties : sequence of callables ``penalty(out) -> scalar`` with a ``name`` attribute
        Added to the model's loss: sparsity.
    """

    def __init__(
        self,
        config: TrainConfig,
        callbacks: Sequence[Callback] = (),
        corruption: Optional[Corruption] = None,
        penalties: Sequence = (),
    ):
        self.config = config
        self.callbacks = list(callbacks)
        self.corruption = corruption
        self.penalties = list(penalties)
        self.stop_training = False  # a callback may set it

    # -- the objective ---------------------------------------------------------------------------
    def objective(self, model: nn.Module, out: dict, target: torch.Tensor) -> tuple[torch.Tensor, dict]:
        total, terms = model.loss(out, target)
        for penalty in self.penalties:
            value = penalty(out)
            terms = {**terms, penalty.name: value}
            total = total + value
        return total, terms

    # -- training --------------------------------------------------------------------------------
    def fit(self, model: nn.Module, x, target: Optional[torch.Tensor] = None,
            x_val=None, target_val: Optional[torch.Tensor] = None, *,
            state: Optional[TrainState] = None, checkpoints=None) -> dict:
        """Train ``model`` in place; return the history (per epoch lists: loss, val_loss, terms, seconds).

        ``x`` is a tensor (batches are slices of a permutation of it) or a stream of batches (an object with
        ``epoch(state)``, ``rows`` and ``sample(n)``, such as ``aekit.data.streaming.StreamBatches``);
        ``x_val`` a tensor or an object whose ``batches()`` yields ``(x, target)`` validation batches.
        ``state`` continues a run (``partial_fit``); ``checkpoints`` (a ``training.checkpoint.Checkpointer``)
        restores the run from its folder's last checkpoint, if any, and saves new ones as it goes.
        The run's final :class:`TrainState` is left in ``self.state``.
        """
        cfg = self.config
        rows = int(cfg.batch_size) // int(cfg.world_size)  # this rank's share of the global batch
        with cpu_threads(cfg.num_threads, model, rows, torch.device(cfg.device).type):
            return self._fit(model, x, target, x_val, target_val, state, checkpoints)

    def _setup(self, model, x, target, x_val, target_val, state):
        """Move model and data to the device; the batches, the validation data and the state."""
        cfg = self.config
        device = torch.device(cfg.device)
        model.to(device)
        if torch.is_tensor(x):
            x = x.to(device)
            target = x if target is None else target.to(device)
            batches = _Batches(x, target, int(cfg.batch_size) // int(cfg.world_size), bool(cfg.shuffle),
                               int(cfg.rank), int(cfg.world_size))
        else:
            batches = x
        if torch.is_tensor(x_val):
            x_val = x_val.to(device)
            x_val = _Validation(x_val, x_val if target_val is None else target_val.to(device),
                                int(cfg.eval_batch_size))
        self._trial_forward(model, batches.sample(2))
        if state is None:
            state = TrainState(model, make_optimizer(model.parameters(), cfg),
                               torch.Generator(device=device).manual_seed(int(cfg.seed)))
        return batches, x_val, state

    def _fit(self, model, x, target, x_val, target_val, state, checkpoints) -> dict:
        cfg = self.config
        batches, val, state = self._setup(model, x, target, x_val, target_val, state)
        self.state = state
        if checkpoints is not None:
            checkpoints.restore(state)
        # a penalty needs the autograd graph of the model's outputs; the hand-written steps have none
        step = model.fused_training_step(batches.rows) if cfg.fused_step and not self.penalties else None
        # for callbacks that show progress within an epoch; None for streams of unknown length
        self.steps_per_epoch = getattr(batches, "steps_per_epoch", None)
        self.stop_training = state.finished
        for cb in self.callbacks:
            cb.on_train_begin(self, model)
        while state.epoch < int(cfg.epochs) and not self.stop_training:
            for cb in self.callbacks:
                cb.on_epoch_begin(state.epoch, self, model)
            start = time.perf_counter()
            logs = self._train_epoch(model, state, batches, step, checkpoints)
            if val is not None:
                val_gen = torch.Generator(device=cfg.device).manual_seed(int(cfg.seed) + 1)
                logs.update({f"val_{k}": v for k, v in self._evaluate(model, val.batches(), val_gen).items()})
            logs["seconds"] = time.perf_counter() - start
            for key, value in logs.items():
                state.history.setdefault(key, []).append(value)
            for cb in self.callbacks:
                cb.on_epoch_end(state.epoch, logs, self, model)
            patience_out = state.observe(logs.get("val_loss", logs["loss"]), cfg.min_delta, cfg.early_stopping)
            # early stopping, or a callback's stop (callbacks may run on rank 0 alone): one decision for all ranks
            self.stop_training = distributed.agree(self.stop_training or patience_out)
            state.end_epoch()
            if checkpoints is not None and state.epoch < int(cfg.epochs) and not self.stop_training:
                checkpoints.epoch_ended(state)
        history = self._finish(model, state, checkpoints)
        for cb in self.callbacks:
            cb.on_train_end(history, self, model)
        return history

    def _finish(self, model, state: TrainState, checkpoints) -> dict:
        """Restore the best weights (early stopping); mark the run finished and save it once more."""
        if not state.finished:
            if state.best_weights is not None:
                model.load_state_dict(state.best_weights)
                state.history["best_epoch"] = state.best_epoch
            state.finished = True
            if checkpoints is not None:
                checkpoints.save(state)
        model.zero_grad(set_to_none=True)  # a fitted model carries no gradients (the memory of its weights)
        model.eval()
        return state.history

    def _trial_forward(self, model: nn.Module, x: torch.Tensor) -> None:
        """Turn a shape mistake into one clear error before any training starts."""
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                model(x[:2])
        except RuntimeError as e:
            raise DataError(
                f"the {type(model).__name__} could not process input of shape {tuple(x.shape)}: {e}"
            ) from e
        finally:
            model.train(was_training)

    def _train_epoch(self, model, state: TrainState, batches, step, checkpoints) -> dict:
        """One pass over the batches: through ``step`` (the model's hand-written step) if given, else autograd.

        A resumed epoch (``state.step > 0``) continues after the batches it had done."""
        model.train()
        if state.step == 0:
            state.begin_epoch()
        optimizer, gen, callbacks = state.optimizer, state.generator, self.callbacks
        # Per-batch terms stay on the device, as a list (stacking them per step costs 30 us, 3% of a step);
        # one synchronisation per epoch, not per step.
        rows, sizes = state.rows, state.sizes
        every = checkpoints.every_steps if checkpoints is not None else 0
        # shards of a stream may differ in length: the ranks agree each step whether all still have a batch;
        # in-memory shards are equal by construction, and skip that collective: with it, 2 processes ran the
        # tutorial epoch at 0.48x one process's speed, without it at 0.61x (docs/benchmarks.md)
        epoch = batches.epoch(state)
        for xb, yb in (epoch if getattr(batches, "equal_shards", False) else distributed.agreed(epoch)):
            inp = self.corruption(xb, gen) if self.corruption is not None else xb
            if step is not None:
                total, terms, code = step(inp, yb)
            else:
                out = model(inp)
                total, terms = self.objective(model, out, yb)
                optimizer.zero_grad(set_to_none=True)
                total.backward()
                code = out["code"]
            distributed.all_reduce_gradients(state.model.parameters())
            optimizer.step()
            if state.names is None:
                state.names = list(terms)
            rows.append((total.detach(), *(t.detach() for t in terms.values()), code.detach().abs().mean()))
            sizes.append(xb.shape[0])
            state.step += 1
            for cb in callbacks:
                cb.on_batch_end(state.step - 1, self, model)
            if every and state.step % every == 0:
                checkpoints.save(state)
        return self._epoch_logs(state)

    def _epoch_logs(self, state: TrainState) -> dict:
        """The epoch's mean loss and terms from its per-batch rows; the NaN guard names the first bad batch.

        Under many processes the rows are averaged over the ranks first (every rank has done the same
        number of steps), so every rank sees the same means and takes the same decisions."""
        rows, epoch = state.rows, state.epoch
        sizes = torch.tensor(state.sizes, dtype=rows[0][0].dtype, device=rows[0][0].device)[:, None]
        table = torch.stack([torch.stack(column) for column in zip(*rows)], dim=1) * sizes  # (batches, 2 + terms)
        table, sizes = distributed.all_reduce_mean(table), distributed.all_reduce_mean(sizes)
        finite = torch.isfinite(table[:, 0])
        if not bool(finite.all()):
            bad = int((~finite).nonzero()[0, 0])
            raise TrainingError(
                f"the loss became {float(table[bad, 0]):.4g} at epoch {epoch + 1}, batch {bad + 1}; "
                "lower learning_rate, check the data for extreme values, or use scaling='standard'"
            )
        means = (table.sum(dim=0) / sizes.sum()).tolist()
        logs = {"loss": means[0]}
        logs.update({name: means[i + 1] for i, name in enumerate(state.names) if name != "loss"})
        logs["code_activation"] = means[-1]
        return logs

    def evaluate(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor,
                 gen: Optional[torch.Generator] = None) -> dict:
        """Mean loss and terms over ``x`` (no gradients; corruption applied when set and ``gen`` given)."""
        return self._evaluate(model, _Validation(x, target, int(self.config.eval_batch_size)).batches(), gen)

    @torch.inference_mode()
    def _evaluate(self, model: nn.Module, batches, gen: Optional[torch.Generator]) -> dict:
        model.eval()
        sums: dict = {}
        n = 0
        for xb, yb in batches:
            if self.corruption is not None and gen is not None:
                xb = self.corruption(xb, gen)
            out = model(xb)
            total, terms = self.objective(model, out, yb)
            for key, value in {"loss": total, **terms}.items():
                sums[key] = sums.get(key, 0.0) + value * xb.shape[0]
            n += xb.shape[0]
        return {k: float(v) / n for k, v in sums.items()}


class _Validation:
    """Validation data in memory: batches of ``eval_batch_size`` rows, in order."""

    def __init__(self, x: torch.Tensor, target: torch.Tensor, batch_size: int):
        self.x, self.target, self.batch_size = x, target, batch_size

    def batches(self):
        for i in range(0, self.x.shape[0], self.batch_size):
            yield self.x[i:i + self.batch_size], self.target[i:i + self.batch_size]


class _Batches:
    """Shuffled batches gathered into two reused buffers: no per-step allocation, no copy of the data.

    ``index_select(out=...)`` into a batch-sized buffer is the cheapest row gather; the buffer is reused
    after the step that read it has finished its backward pass. With ``world_size > 1`` each rank takes
    every ``world_size``-th row of the same permutation, padded by wrapping around to equal lengths
    (``torch.utils.data.DistributedSampler``'s rule).
    """

    #: every rank has the same number of batches (the loop need not agree on the end of an epoch)
    equal_shards = True

    def __init__(self, x: torch.Tensor, target: torch.Tensor, batch_size: int, shuffle: bool,
                 rank: int = 0, world_size: int = 1):
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, world_size), got rank={rank}, world_size={world_size}")
        self.x, self.target, self.shuffle = x, target, shuffle
        self.rank, self.world_size = rank, world_size
        self.n = -(-x.shape[0] // world_size)  # rows of this rank's shard
        self.starts = batch_starts(self.n, batch_size)
        self.index_dtype = torch.int32 if x.shape[0] < 2 ** 31 else torch.int64  # half the permutation's memory
        self.rows = rows = max(hi - lo for lo, hi in zip(self.starts[:-1], self.starts[1:]))  # the largest batch
        self.x_buf = x.new_empty((rows,) + tuple(x.shape[1:]))
        self.t_buf = None if target is x else target.new_empty((rows,) + tuple(target.shape[1:]))

    @property
    def steps_per_epoch(self) -> int:
        return len(self.starts) - 1

    def sample(self, n: int) -> torch.Tensor:
        return self.x[:n]

    def _order(self, state) -> Optional[torch.Tensor]:
        """This epoch's row order (None: the rows in order); drawn from the generator as the epoch began."""
        n, gen = self.x.shape[0], state.generator
        if not self.shuffle and self.world_size == 1:
            return None
        resumed = state.step > 0  # the order was drawn before the checkpoint: draw it again from then
        now = gen.get_state() if resumed else None
        if resumed:
            gen.set_state(state.epoch_generator)
        order = (torch.randperm(n, generator=gen, device=self.x.device, dtype=self.index_dtype) if self.shuffle
                 else torch.arange(n, device=self.x.device, dtype=self.index_dtype))
        if resumed:
            gen.set_state(now)
        if self.world_size > 1:
            order = torch.cat([order, order[:self.n * self.world_size - n]])[self.rank::self.world_size]
        return order

    def epoch(self, state):
        """Yield ``(inputs, targets)`` for every batch of one epoch not done yet (``state.step`` are)."""
        order = self._order(state)
        bounds = list(zip(self.starts[:-1], self.starts[1:]))[state.step:]
        for lo, hi in bounds:
            if order is None:
                yield self.x[lo:hi], self.target[lo:hi]
                continue
            idx = order[lo:hi]
            xb = torch.index_select(self.x, 0, idx, out=self.x_buf[:hi - lo])
            yb = xb if self.t_buf is None else torch.index_select(self.target, 0, idx, out=self.t_buf[:hi - lo])
            yield xb, yb
