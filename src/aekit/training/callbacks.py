"""Things that watch training: progress display, logging. The loop itself never prints."""
from __future__ import annotations

import logging
import sys
import time

logger = logging.getLogger(__name__)


class Callback:
    """Hooks the trainer calls; override any of them. Pass instances as ``AutoEncoder(callbacks=[...])``.

    In order: ``on_train_begin`` once; per epoch ``on_epoch_begin``, ``on_batch_end`` after each optimizer
    step (``batch`` counts from 0 within the epoch), ``on_epoch_end`` with that epoch's ``logs`` (loss,
    val_loss, each loss term, code_activation, seconds); ``on_train_end`` once with the whole history.
    ``trainer.config`` is the TrainConfig; setting ``trainer.stop_training = True`` ends training after
    the epoch. ``model`` is the ``nn.Module`` being trained: read it, do not replace it.
    """

    def on_train_begin(self, trainer, model) -> None: ...

    def on_epoch_begin(self, epoch: int, trainer, model) -> None: ...

    def on_batch_end(self, batch: int, trainer, model) -> None:
        """After each optimizer step; ``batch`` counts from 0 within the epoch. Runs on the host without a
        device synchronisation: the step's loss is not read here (it is still on the device);
        ``trainer.state`` holds the run's state."""

    def on_epoch_end(self, epoch: int, logs: dict, trainer, model) -> None: ...

    def on_train_end(self, history: dict, trainer, model) -> None: ...


def _format_logs(logs: dict) -> str:
    keys = [k for k in ("loss", "val_loss") if k in logs]
    return "  ".join(f"{k}={logs[k]:.4f}" for k in keys)


class ProgressBar(Callback):
    """Progress with loss, val_loss and an ETA: on a terminal one bar in epochs that moves with every batch;
    elsewhere plain lines, at most ``max_lines`` at epoch ends, plus a line every ``interval`` seconds
    inside an epoch that runs longer (log files and CI never see carriage-return redraws).
    """

    def __init__(self, stream=None, max_lines: int = 20, interval: float = 30.0):
        self.stream = stream if stream is not None else sys.stderr
        self.max_lines = max_lines
        self.interval = interval
        self._bar = None

    def on_train_begin(self, trainer, model) -> None:
        self._total = trainer.config.epochs
        self._steps = getattr(trainer, "steps_per_epoch", None)  # None: a stream of unknown length
        self._epoch = 0
        self._start = self._last = time.perf_counter()
        if getattr(self.stream, "isatty", lambda: False)():
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self._total, unit="epoch", file=self.stream, dynamic_ncols=True,
                             bar_format="{l_bar}{bar}| {n:.1f}/{total} epochs [{elapsed}<{remaining}{postfix}]")

    def on_epoch_begin(self, epoch: int, trainer, model) -> None:
        self._epoch = epoch

    def on_batch_end(self, batch: int, trainer, model) -> None:
        if self._bar is not None:
            if self._steps:
                self._bar.update(1 / self._steps)  # tqdm redraws at most every 0.1 s
            return
        now = time.perf_counter()
        if now - self._last >= self.interval and (self._steps is None or batch + 1 < self._steps):
            self._last = now
            of = f"/{self._steps}" if self._steps else ""
            print(f"epoch {self._epoch + 1}/{self._total}  batch {batch + 1}{of}  "
                  f"{now - self._start:.1f}s elapsed", file=self.stream, flush=True)

    def on_epoch_end(self, epoch: int, logs: dict, trainer, model) -> None:
        if self._bar is not None:
            self._bar.n = epoch + 1  # whole epochs, without the float sum's rounding
            self._bar.set_postfix_str(_format_logs(logs))
            return
        every = max(1, -(-self._total // self.max_lines))
        if (epoch + 1) % every == 0 or epoch + 1 == self._total or epoch == 0:
            self._last = time.perf_counter()
            elapsed = self._last - self._start
            eta = elapsed / (epoch + 1) * (self._total - epoch - 1)
            print(
                f"epoch {epoch + 1}/{self._total}  {_format_logs(logs)}  {elapsed:.1f}s elapsed, eta {eta:.1f}s",
                file=self.stream,
                flush=True,
            )

    def on_train_end(self, history: dict, trainer, model) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class LoggingCallback(Callback):
    """Sends one record per epoch to the ``aekit.training`` logger (DEBUG)."""

    def on_epoch_end(self, epoch: int, logs: dict, trainer, model) -> None:
        logger.debug("epoch %d %s", epoch + 1, _format_logs(logs))


class KLWarmup(Callback):
    """Ramps a variational model's KL weight from 0 to its full ``beta`` over the first ``epochs`` epochs.

    Sets ``model.kl_scale`` to ``epoch / epochs`` (0 in the first epoch) at the start of each epoch and
    back to 1 when training ends; models without a ``kl_scale`` attribute are left alone.
    """

    def __init__(self, epochs: int):
        if int(epochs) < 0:
            raise ValueError(f"beta_warmup is a number of epochs (>= 0), got {epochs!r}")
        self.epochs = int(epochs)

    def on_epoch_begin(self, epoch: int, trainer, model) -> None:
        if hasattr(model, "kl_scale") and self.epochs:
            model.kl_scale = min(1.0, epoch / self.epochs)

    def on_train_end(self, history: dict, trainer, model) -> None:
        if hasattr(model, "kl_scale"):
            model.kl_scale = 1.0
