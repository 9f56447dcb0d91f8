"""The one training loop. Nothing in this file knows which autoencoder it trains.

It calls ``model(x)``, reads ``model.loss(out, target)`` plus any penalties, and steps. Denoising is a
``corruption`` applied to each batch; sparsity is a penalty; neither needs a loop of its own.
Data stays in memory as tensors; batches are slices of a permutation (no per-sample DataLoader).
"""
from __future__ import annotations

import time
from typing import Callable, Optional, Sequence

import torch
from torch import nn

from ..exceptions import DataError, TrainingError
from .callbacks import Callback
from .config import TrainConfig
from .optim import make_optimizer
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
    def fit(self, model: nn.Module, x: torch.Tensor, target: Optional[torch.Tensor] = None,
            x_val: Optional[torch.Tensor] = None, target_val: Optional[torch.Tensor] = None) -> dict:
        """Train ``model`` in place; return the history (per epoch lists: loss, val_loss, terms, seconds)."""
        cfg = self.config
        with cpu_threads(cfg.num_threads, model, int(cfg.batch_size), torch.device(cfg.device).type):
            return self._fit(model, x, target, x_val, target_val)

    def _fit(self, model, x, target, x_val, target_val) -> dict:
        cfg = self.config
        device = torch.device(cfg.device)
        model.to(device)
        x = x.to(device)
        target = x if target is None else target.to(device)
        if x_val is not None:
            x_val = x_val.to(device)
            target_val = x_val if target_val is None else target_val.to(device)
        gen = torch.Generator(device=device).manual_seed(int(cfg.seed))
        val_gen_seed = int(cfg.seed) + 1
        self._trial_forward(model, x)
        optimizer = make_optimizer(model.parameters(), cfg)
        batches = _Batches(x, target, int(cfg.batch_size), bool(cfg.shuffle))
        # a penalty needs the autograd graph of the model's outputs; the hand-written steps have none
        step = model.fused_training_step(batches.rows) if cfg.fused_step and not self.penalties else None
        self.steps_per_epoch = len(batches.sizes)  # for callbacks that show progress within an epoch
        history: dict = {}
        best = (float("inf"), None, -1)  # (monitored loss, weights, epoch)
        wait = 0
        self.stop_training = False
        for cb in self.callbacks:
            cb.on_train_begin(self, model)
        for epoch in range(int(cfg.epochs)):
            for cb in self.callbacks:
                cb.on_epoch_begin(epoch, self, model)
            start = time.perf_counter()
            logs = self._train_epoch(model, optimizer, batches, gen, epoch, step)
            if x_val is not None:
                val_gen = torch.Generator(device=device).manual_seed(val_gen_seed)
                logs.update({f"val_{k}": v for k, v in self.evaluate(model, x_val, target_val, val_gen).items()})
            logs["seconds"] = time.perf_counter() - start
            for key, value in logs.items():
                history.setdefault(key, []).append(value)
            for cb in self.callbacks:
                cb.on_epoch_end(epoch, logs, self, model)
            monitored = logs.get("val_loss", logs["loss"])
            if monitored < best[0] - float(cfg.min_delta):
                wait = 0
                if cfg.early_stopping is not None:
                    best = (monitored, {k: v.detach().clone() for k, v in model.state_dict().items()}, epoch)
            else:
                wait += 1
                if cfg.early_stopping is not None and wait >= int(cfg.early_stopping):
                    self.stop_training = True
            if self.stop_training:
                break
        if best[1] is not None:
            model.load_state_dict(best[1])
            history["best_epoch"] = best[2]
        model.zero_grad(set_to_none=True)  # a fitted model carries no gradients (the memory of its weights)
        model.eval()
        for cb in self.callbacks:
            cb.on_train_end(history, self, model)
        return history

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

    def _train_epoch(self, model, optimizer, batches: "_Batches", gen, epoch: int, step=None) -> dict:
        """One pass over the batches: through ``step`` (the model's hand-written step) if given, else autograd."""
        n = batches.x.shape[0]
        model.train()
        # Per-batch terms stay on the device, as a list (stacking them per step costs 30 us, 3% of a step);
        # one synchronisation per epoch, not per step.
        rows, names = [], None
        for batch, (xb, yb) in enumerate(batches.epoch(gen)):
            inp = self.corruption(xb, gen) if self.corruption is not None else xb
            if step is not None:
                total, terms, code = step(inp, yb)
            else:
                out = model(inp)
                total, terms = self.objective(model, out, yb)
                optimizer.zero_grad(set_to_none=True)
                total.backward()
                code = out["code"]
            optimizer.step()
            if names is None:
                names = list(terms)
            rows.append((total.detach(), *(t.detach() for t in terms.values()), code.detach().abs().mean()))
            for cb in self.callbacks:
                cb.on_batch_end(batch, self, model)
        sizes = torch.tensor(batches.sizes, dtype=rows[0][0].dtype, device=rows[0][0].device)[:, None]
        table = torch.stack([torch.stack(column) for column in zip(*rows)], dim=1) * sizes  # (batches, 2 + terms)
        finite = torch.isfinite(table[:, 0])
        if not bool(finite.all()):
            bad = int((~finite).nonzero()[0, 0])
            raise TrainingError(
                f"the loss became {float(table[bad, 0]):.4g} at epoch {epoch + 1}, batch {bad + 1}; "
                "lower learning_rate, check the data for extreme values, or use scaling='standard'"
            )
        means = (table.sum(dim=0) / n).tolist()
        logs = {"loss": means[0]}
        logs.update({name: means[i + 1] for i, name in enumerate(names) if name != "loss"})
        logs["code_activation"] = means[-1]
        return logs

    @torch.inference_mode()
    def evaluate(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor,
                 gen: Optional[torch.Generator] = None) -> dict:
        """Mean loss and terms over ``x`` (no gradients; corruption applied when set and ``gen`` given)."""
        model.eval()
        sums: dict = {}
        step = int(self.config.eval_batch_size)
        for i in range(0, x.shape[0], step):
            xb, yb = x[i:i + step], target[i:i + step]
            if self.corruption is not None and gen is not None:
                xb = self.corruption(xb, gen)
            out = model(xb)
            total, terms = self.objective(model, out, yb)
            for key, value in {"loss": total, **terms}.items():
                sums[key] = sums.get(key, 0.0) + value * xb.shape[0]
        return {k: float(v) / x.shape[0] for k, v in sums.items()}


class _Batches:
    """Shuffled batches gathered into two reused buffers: no per-step allocation, no copy of the data.

    ``index_select(out=...)`` into a batch-sized buffer is the cheapest row gather; the buffer is reused
    after the step that read it has finished its backward pass.
    """

    def __init__(self, x: torch.Tensor, target: torch.Tensor, batch_size: int, shuffle: bool):
        self.x, self.target, self.shuffle = x, target, shuffle
        self.starts = batch_starts(x.shape[0], batch_size)
        self.sizes = [hi - lo for lo, hi in zip(self.starts[:-1], self.starts[1:])]
        self.index_dtype = torch.int32 if x.shape[0] < 2 ** 31 else torch.int64  # half the permutation's memory
        self.rows = rows = max(self.sizes)  # the largest batch
        self.x_buf = x.new_empty((rows,) + tuple(x.shape[1:]))
        self.t_buf = None if target is x else target.new_empty((rows,) + tuple(target.shape[1:]))

    def epoch(self, gen: torch.Generator):
        """Yield ``(inputs, targets)`` for every batch of one epoch."""
        order = (torch.randperm(self.x.shape[0], generator=gen, device=self.x.device, dtype=self.index_dtype)
                 if self.shuffle else None)
        for lo, hi in zip(self.starts[:-1], self.starts[1:]):
            if order is None:
                yield self.x[lo:hi], self.target[lo:hi]
                continue
            idx = order[lo:hi]
            xb = torch.index_select(self.x, 0, idx, out=self.x_buf[:hi - lo])
            yb = xb if self.t_buf is None else torch.index_select(self.target, 0, idx, out=self.t_buf[:hi - lo])
            yield xb, yb
