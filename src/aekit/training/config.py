"""Settings of the one training loop."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
#: ``epochs='auto'``: at least AUTO_EPOCHS epochs and at least AUTO_STEPS optimizer steps. On small data a
#: fixed epoch count is too few steps (1,797 digits at batch 256: 50 epochs = 350 steps, a code map worse
#: than PCA's); about 3,000 steps beat PCA's trustworthiness on digits, wine, breast cancer and two ODDS
#: sets (bench/defaults.py), while MNIST-sized data keep their 50 epochs.
AUTO_EPOCHS = 50
AUTO_STEPS = 3000


def resolve_epochs(epochs, n_samples: int, batch_size: int) -> int:
    """The number of epochs to train: ``epochs`` itself, or for ``'auto'`` enough for :data:`AUTO_STEPS`
    steps (never fewer than :data:`AUTO_EPOCHS`)."""
    if isinstance(epochs, str) and epochs == "auto":
        steps_per_epoch = -(-max(1, int(n_samples)) // max(1, int(batch_size)))
        return max(AUTO_EPOCHS, -(-AUTO_STEPS // steps_per_epoch))
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer or 'auto', got {epochs!r}")
    return int(epochs)


@dataclass
class TrainConfig:
    epochs: int = 50
    batch_size: int = 256
    learning_rate: float = 1e-3
    #: a name, or a factory ``optimizer(params) -> torch.optim.Optimizer`` (learning_rate and weight_decay
    #: are then the factory's business)
    optimizer: object = "adam"
    weight_decay: float = 0.0
    #: epochs without improvement of the monitored loss before stopping; None trains every epoch
    early_stopping: Optional[int] = None
    min_delta: float = 0.0
    shuffle: bool = True
    device: str = "cpu"
    seed: int = 0
    #: CPU threads while training; None picks 1 for small models (faster) and torch's default otherwise
    num_threads: Optional[int] = None
    #: samples per forward pass when evaluating (validation): no gradients, so larger than training
    #: batches, but small enough that a batch's activations stay in the CPU's cache (4096 was 10% slower)
    eval_batch_size: int = 1024
    #: use the model's hand-written training step where it has one (plain dense models) instead of autograd
    fused_step: bool = True
    #: this process's rank and the number of processes (training/distributed.py); batch_size stays the
    #: global batch: each rank steps on batch_size / world_size rows and the gradients are averaged
    rank: int = 0
    world_size: int = 1

    def __post_init__(self):
        if int(self.epochs) < 1:
            raise ValueError(f"epochs must be a positive integer, got {self.epochs!r}")
        if int(self.batch_size) < 1:
            raise ValueError(f"batch_size must be a positive integer, got {self.batch_size!r}")
        if int(self.batch_size) % int(self.world_size):
            raise ValueError(f"batch_size={self.batch_size} is the global batch and must divide evenly among "
                             f"{self.world_size} processes; give a multiple of {self.world_size}")
        if not float(self.learning_rate) > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate!r}")
        if not callable(self.optimizer) and self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS} or a callable params -> "
                             f"torch.optim.Optimizer, got {self.optimizer!r}")
        if self.early_stopping is not None and int(self.early_stopping) < 1:
            raise ValueError(
                f"early_stopping is a patience in epochs (a positive integer) or None, got {self.early_stopping!r}"
            )
